import "reflect-metadata";
import { writeFileSync, mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
import { loadConfig } from "../../src/config";
import { startGateway } from "../../src/gateway";
import { SIMULATOR_CREDENTIALS } from "../../src/simulator/simulator";
import { envInt, ready } from "./common";

/**
 * bench:tenants' usergraph: TENANTS (default 200) tenants in a TENANTS_FILE, all on the one simulator with
 * its one set of credentials (the simulator knows one Defender tenant and one ESET user; usergraph keeps
 * the tenants apart by id whatever their credentials), default vendor rate limits, and a control port:
 * GET /mem collects garbage and answers process.memoryUsage() and how many tenants have started.
 */
export const BENCH_KEY = "bench-tenants-api-key-0123456789";
export const tenantId = (i: number): string => `t${String(i).padStart(3, "0")}`;

async function main(): Promise<void> {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  const sim = process.env.SIM_URL!;
  const count = envInt("TENANTS", 200);
  const file = join(mkdtempSync(join(tmpdir(), "usergraph-bench-tenants-")), "tenants.json");
  const tenants = Array.from({ length: count }, (_, i) => ({
    id: tenantId(i),
    name: `Customer ${i}`,
    defender: {
      tenantId: SIMULATOR_CREDENTIALS.tenantId,
      clientId: SIMULATOR_CREDENTIALS.clientId,
      clientSecretEnv: "SIM_DEFENDER_SECRET",
      apiUrl: sim,
      tokenUrl: process.env.DEFENDER_TOKEN_URL!,
    },
    eset: { usernameEnv: "SIM_ESET_USER", passwordEnv: "SIM_ESET_PASSWORD", apiUrl: sim, tokenUrl: process.env.ESET_TOKEN_URL! },
  }));
  writeFileSync(file, JSON.stringify({ tenants }));
  const gateway = await startGateway(
    loadConfig({
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      TENANTS_FILE: file,
      SIM_DEFENDER_SECRET: SIMULATOR_CREDENTIALS.clientSecret,
      SIM_ESET_USER: SIMULATOR_CREDENTIALS.esetUsername,
      SIM_ESET_PASSWORD: SIMULATOR_CREDENTIALS.esetPassword,
      AUTH_API_KEYS: `${BENCH_KEY}@*`,
      CACHE_TTL_SECONDS: process.env.CACHE_TTL_SECONDS ?? "600",
      // Counted on every request, never reached.
      CALLER_RATE_LIMIT: "100000000/1s",
      UPSTREAM_CONNECTIONS: "256",
    }),
  );
  const control = createServer((req, res) => {
    if (req.url !== "/mem") return void res.writeHead(404).end();
    gc();
    gc();
    const m = process.memoryUsage();
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ ...m, started: gateway.clients.tenants.started().length }));
  });
  await new Promise<void>((r) => control.listen(0, "127.0.0.1", () => r()));
  ready({ url: gateway.url, control: `http://127.0.0.1:${(control.address() as AddressInfo).port}` });
  process.on("SIGINT", () => void gateway.stop().then(() => process.exit(0)));
}

void main();
