import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { startSimulator } from "../../src/simulator/simulator";
import { envInt, ready } from "./common";

/**
 * The simulator as its own process, with a control port for the orchestrator: GET /stats (API calls per
 * source so far), POST /latency?ms=N. No faults.
 */
async function main(): Promise<void> {
  const sim = await startSimulator({
    extraDefenderUsers: envInt("BENCH_USERS", 20_000),
    extraEsetUsers: envInt("BENCH_USERS", 20_000),
    synthesizeDefenderUsers: process.env.SYNTHESIZE === "1",
  });
  const control = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/latency") sim.latencyMs = Number(url.searchParams.get("ms") ?? 0);
    if (url.pathname === "/stats" || url.pathname === "/latency") {
      const stats = { DEFENDER: sim.count({ source: "DEFENDER", kind: "api" }), ESET: sim.count({ source: "ESET", kind: "api" }) };
      // Keep memory flat over a long run: the counts are all the orchestrator needs.
      sim.requests.length = 0;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(stats));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => control.listen(0, "127.0.0.1", () => r()));
  ready({
    url: sim.url,
    control: `http://127.0.0.1:${(control.address() as AddressInfo).port}`,
    defenderTokenUrl: sim.defenderTokenUrl,
    esetTokenUrl: sim.esetTokenUrl,
  });
}

void main();
