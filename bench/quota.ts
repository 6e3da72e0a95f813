import "reflect-metadata";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../src/config";
import { startGateway, type Gateway } from "../src/gateway";
import { simulatorEnv, startSimulator, type Simulator } from "../src/simulator/simulator";

/**
 * `npm run bench:quota`: what the example operations of schema/operations/defender-relations.graphql cost
 * against Defender's quota (100 calls a minute, 1,500 an hour for the whole app), planned as usergraph plans
 * them, side by side with the naive plan (one call per user per relation). Both run for real against the
 * simulator with the default rate limits; calls are counted at the simulator, per endpoint family.
 *
 * The naive plan is the same gateway asked one user (or one machine) per request: each request then holds a
 * single key, so every relation is one call for that key, which is what a resolver without plans costs.
 * "Time under the quota" is the wall time measured, and for plans over 100 calls also the least time the
 * quota allows them (a sliding minute: call 101 waits for the first call to leave the window), because a
 * request that would wait longer than REQUEST_DEADLINE_MS is refused at once (RATE_LIMITED) instead.
 */
const USERS = 50;
const MACHINES = 200;
const ALERTS = 2_000;
const root = join(__dirname, "..", "..");
const OPERATIONS = readFileSync(join(root, "schema", "operations", "defender-relations.graphql"), "utf8");

interface Answer {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; path?: unknown[]; extensions?: { code?: string } }>;
}

async function ask(gateway: Gateway, operationName: string, variables: Record<string, unknown>): Promise<Answer> {
  const res = await fetch(gateway.url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: OPERATIONS, operationName, variables }),
  });
  return (await res.json()) as Answer;
}

interface Row {
  operation: string;
  plan: string;
  requests: number;
  defenderCalls: number;
  byFamily: string;
  errors: Record<string, number>;
  wallMs: number;
  quotaFloorS: number;
}

interface Stack {
  sim: Simulator;
  gateway: Gateway;
}

async function stack(): Promise<Stack> {
  const sim = await startSimulator({
    extraDefenderUsers: USERS,
    extraDefenderMachines: MACHINES,
    extraDefenderAlerts: ALERTS,
    latencyMs: 20,
  });
  // The vendor defaults: DEFENDER_RATE_LIMITS is left at 100/60s,1500/1h on purpose.
  const gateway = await startGateway(
    loadConfig({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", AUTH_MODE: "none", ...simulatorEnv(sim) }),
  );
  return { sim, gateway };
}

function defenderCalls(sim: Simulator): { total: number; byFamily: string } {
  const families = ["users", "machines", "alerts"] as const;
  const parts = families.map((f) => `${f} ${sim.count({ source: "DEFENDER", kind: "api", family: f })}`);
  return { total: sim.count({ source: "DEFENDER", kind: "api" }), byFamily: parts.join(", ") };
}

/** The least time a sliding 100-a-minute window lets `calls` calls take (the hour's 1,500 never binds here). */
function quotaFloorSeconds(calls: number): number {
  return Math.floor(Math.max(0, calls - 1) / 100) * 60;
}

async function measure(
  s: Stack,
  operation: string,
  plan: string,
  requests: Array<Record<string, unknown>>,
  parallel: boolean,
): Promise<Row> {
  const before = defenderCalls(s.sim).total;
  const beforeFamilies = ["users", "machines", "alerts"].map((f) => s.sim.count({ source: "DEFENDER", kind: "api", family: f as "users" }));
  const errors: Record<string, number> = {};
  const started = Date.now();
  const answers = parallel
    ? await Promise.all(requests.map((v) => ask(s.gateway, operation, v)))
    : await requests.reduce<Promise<Answer[]>>(async (acc, v) => [...(await acc), await ask(s.gateway, operation, v)], Promise.resolve([]));
  const wallMs = Date.now() - started;
  for (const a of answers) for (const e of a.errors ?? []) errors[e.extensions?.code ?? "?"] = (errors[e.extensions?.code ?? "?"] ?? 0) + 1;
  const after = defenderCalls(s.sim);
  const families = ["users", "machines", "alerts"].map(
    (f, i) => `${f} ${s.sim.count({ source: "DEFENDER", kind: "api", family: f as "users" }) - beforeFamilies[i]!}`,
  );
  const calls = after.total - before;
  return {
    operation,
    plan,
    requests: requests.length,
    defenderCalls: calls,
    byFamily: families.join(", "),
    errors,
    wallMs,
    quotaFloorS: quotaFloorSeconds(calls),
  };
}

async function main(): Promise<void> {
  const since = new Date(Date.now() - 7 * 24 * 3_600_000).toISOString();
  const ids = Array.from({ length: USERS }, (_, i) => `bench\\user${String(i).padStart(6, "0")}`);
  const rows: Row[] = [];

  const scenarios: Array<{
    operation: string;
    planned: Record<string, unknown>;
    naive: Array<Record<string, unknown>>;
    naiveOperation: string;
  }> = [
    {
      operation: "DefenderUserMachinesAndAlerts",
      planned: { id: ids[0], since },
      naiveOperation: "DefenderUserMachinesAndAlerts",
      naive: [{ id: ids[0], since }],
    },
    {
      operation: "MachineLoggedOnUsersProtection",
      planned: { machineId: "bench-000000.bench.local" },
      naiveOperation: "MachineLoggedOnUsersProtection",
      naive: [{ machineId: "bench-000000.bench.local" }],
    },
    {
      operation: "RiskyUsersDashboard",
      planned: { ids, since },
      // One user per request: every relation is then one call per user, the naive plan.
      naiveOperation: "RiskyUsersDashboard",
      naive: ids.map((id) => ({ ids: [id], since })),
    },
  ];

  for (const sc of scenarios) {
    // Each plan on a fresh simulator and gateway, so that neither warms the other's cache.
    const planned = await stack();
    rows.push(await measure(planned, sc.operation, "planned, cold", [sc.planned], false));
    rows.push(await measure(planned, sc.operation, "planned, warm", [sc.planned], false));
    await planned.gateway.stop();
    await planned.sim.close();
    const naive = await stack();
    rows.push(await measure(naive, sc.naiveOperation, "naive (one key a request), cold", sc.naive, false));
    await naive.gateway.stop();
    await naive.sim.close();
  }

  const lines = [
    `Defender calls per example operation (schema/operations/defender-relations.graphql), default quota`,
    `(100/min + 1500/h), simulator: ${USERS} bench users, ${MACHINES} machines, ${ALERTS} alerts over 7 days, 20 ms latency.`,
    "",
    "| operation | plan | requests | Defender calls | by family | errors | wall time | least time the quota allows |",
    "|---|---|---|---|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| ${r.operation} | ${r.plan} | ${r.requests} | ${r.defenderCalls} | ${r.byFamily} | ${Object.keys(r.errors).length ? JSON.stringify(r.errors) : "none"} | ${r.wallMs} ms | ${r.quotaFloorS} s |`,
    ),
    "",
  ];
  for (const sc of scenarios) {
    const p = rows.find((r) => r.operation === sc.operation && r.plan === "planned, cold")!;
    const n = rows.find((r) => r.operation === sc.naiveOperation && r.plan.startsWith("naive"))!;
    lines.push(`- ${sc.operation}: naive ÷ planned Defender calls (cold) = ${(n.defenderCalls / Math.max(1, p.defenderCalls)).toFixed(2)}`);
  }
  const text = lines.join("\n") + "\n";
  process.stdout.write(`\n${text}`);
  writeFileSync(join(root, "bench", "quota-results.md"), `# npm run bench:quota (${new Date().toISOString()})\n\n${text}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
