import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Agent } from "undici";
import { SIMULATOR_CREDENTIALS } from "../../src/simulator/simulator";
import { ready } from "./common";

/**
 * (b) The thin proxy: the least a service can do and still make the same upstream calls. POST / with
 * {"defender": [ids], "eset": [uuids]} → one GET per Defender id (10 at a time), one ESET GET for one uuid
 * or one batchGetUsers for more, the upstream JSON returned as is. No GraphQL, validation or mapping.
 */
const sim = process.env.SIM_URL!;
const agent = new Agent({ connections: 64, keepAliveTimeout: 30_000 });

async function token(url: string, form: Record<string, string>): Promise<string> {
  const res = await agent.request({ origin: new URL(url).origin, path: new URL(url).pathname, method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form).toString() });
  return ((await res.body.json()) as { access_token: string }).access_token;
}

async function call(method: "GET" | "POST", path: string, auth: string, body?: string): Promise<unknown> {
  const res = await agent.request({ origin: sim, path, method, headers: { authorization: `Bearer ${auth}`, "content-type": "application/json" }, body });
  const text = await res.body.text();
  return res.statusCode === 200 ? JSON.parse(text) : null;
}

async function main(): Promise<void> {
  const defenderToken = await token(process.env.DEFENDER_TOKEN_URL!, {
    grant_type: "client_credentials",
    client_id: SIMULATOR_CREDENTIALS.clientId,
    client_secret: SIMULATOR_CREDENTIALS.clientSecret,
    scope: SIMULATOR_CREDENTIALS.scope,
  });
  const esetToken = await token(process.env.ESET_TOKEN_URL!, { grant_type: "password", username: SIMULATOR_CREDENTIALS.esetUsername, password: SIMULATOR_CREDENTIALS.esetPassword });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const { defender = [], eset = [] } = JSON.parse(Buffer.concat(chunks).toString()) as { defender?: string[]; eset?: string[] };
      const out: { defender: unknown[]; eset: unknown } = { defender: new Array(defender.length), eset: null };
      const pending: Array<Promise<void>> = [];
      let next = 0;
      const worker = async () => {
        while (next < defender.length) {
          const i = next++;
          out.defender[i] = await call("GET", `/api/users/${encodeURIComponent(defender[i]!)}`, defenderToken);
        }
      };
      for (let w = 0; w < Math.min(10, defender.length); w++) pending.push(worker());
      if (eset.length === 1) pending.push(call("GET", `/v1/users/${encodeURIComponent(eset[0]!)}`, esetToken).then((v) => void (out.eset = v)));
      else if (eset.length > 1) pending.push(call("POST", "/v1/users:batchGetUsers", esetToken, JSON.stringify({ usersUuids: eset })).then((v) => void (out.eset = v)));
      await Promise.all(pending);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(out));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  ready({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` });
}

void main();
