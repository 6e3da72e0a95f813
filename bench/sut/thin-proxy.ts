import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Agent } from "undici";
import { simulatorTokens } from "../children";
import { ready } from "./common";

/**
 * (b) The thin proxy: the least a service can do and still make the same upstream calls. POST / with
 * {"defender": [ids], "eset": [uuids]} → one GET per Defender id (25 at a time, as usergraph's default), one ESET GET for one uuid
 * or one batchGetUsers for more, the upstream JSON returned as is. No GraphQL, validation or mapping.
 */
const sim = process.env.SIM_URL!;
const agent = new Agent({ connections: 256, keepAliveTimeout: 30_000 });

async function call(method: "GET" | "POST", path: string, auth: string, body?: string): Promise<unknown> {
  const res = await agent.request({
    origin: sim,
    path,
    method,
    headers: { authorization: `Bearer ${auth}`, "content-type": "application/json" },
    body,
  });
  const text = await res.body.text();
  return res.statusCode === 200 ? JSON.parse(text) : null;
}

async function main(): Promise<void> {
  const { defender: defenderToken, eset: esetToken } = await simulatorTokens(process.env.DEFENDER_TOKEN_URL!, process.env.ESET_TOKEN_URL!);
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
      for (let w = 0; w < Math.min(25, defender.length); w++) pending.push(worker());
      if (eset.length === 1)
        pending.push(call("GET", `/v1/users/${encodeURIComponent(eset[0]!)}`, esetToken).then((v) => void (out.eset = v)));
      else if (eset.length > 1)
        pending.push(
          call("POST", "/v1/users:batchGetUsers", esetToken, JSON.stringify({ usersUuids: eset })).then((v) => void (out.eset = v)),
        );
      await Promise.all(pending);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(out));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  ready({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` });
}

void main();
