import "reflect-metadata";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../src/config";
import { startGateway, type Gateway } from "../src/gateway";
import { simulatorEnv, startSimulator, type Simulator } from "../src/simulator/simulator";
import { startChild } from "./children";

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
  // QUOTA_ONLY=dashboard: only the SOC dashboard, printed, results file untouched (to try a change quickly).
  if (process.env.QUOTA_ONLY === "dashboard") {
    process.stdout.write(`${(await socDashboard()).join("\n")}\n`);
    return;
  }
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
  lines.push("", ...(await socDashboard()));
  const text = lines.join("\n") + "\n";
  process.stdout.write(`\n${text}`);
  writeFileSync(join(root, "bench", "quota-results.md"), `# npm run bench:quota (${new Date().toISOString()})\n\n${text}`);
}

/*
 * The SOC dashboard of issue 19 ("the 50 riskiest users with their machines and open alerts, which of them
 * ESET does not protect, how many alerts of each severity") done three ways, each on a fresh simulator fleet
 * and a fresh gateway with the vendors' real limits. The gateway runs as a child process so that its RSS
 * (/proc/<pid>/status VmRSS) before and after the cold run shows what the kept listings cost in memory.
 */
const FLEET = { users: 5_000, machines: 30_000, alerts: 20_000, esetUsers: 5_000 };
const TOP = 50;
const OPEN = ["NEW", "IN_PROGRESS"];
const SEVERITY_RANK: Record<string, number> = { INFORMATIONAL: 0, LOW: 1, MEDIUM: 2, HIGH: 3 };

interface Way {
  name: string;
  /** One dashboard refresh: the requests it sends, in order; resolves with the request count and error codes. */
  run(url: string, since: string): Promise<{ requests: number; errors: Record<string, number> }>;
}

async function post(url: string, query: string, variables: Record<string, unknown>): Promise<Answer> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as Answer;
}

/** The first message of each error code, printed after the table so a refusal is explained. */
const firstMessages = new Map<string, string>();

function tally(errors: Record<string, number>, a: Answer): void {
  for (const e of a.errors ?? []) {
    const code = e.extensions?.code ?? "?";
    errors[code] = (errors[code] ?? 0) + 1;
    if (!firstMessages.has(code)) firstMessages.set(code, e.message);
  }
}

const MACHINE = "id computerDnsName riskScore healthStatus";
const PER_USER = `query($id: ID!, $since: DateTime!) {
  defenderUser(id: $id) {
    id isDomainAdmin
    alerts(since: $since, status: [NEW, IN_PROGRESS], first: 10) { id severity status }
    machines(first: 20) { ${MACHINE} }
    esetLinks { strongestRule esetUser { uuid protectionStatus } }
  }
}`;
const ALERTS_FIRST = `query($since: DateTime!) {
  defenderAlerts(filter: { createdSince: $since }, first: 1000) { edges { node { id severity status relatedUser { defenderUserId } } } }
}`;
const USERS_BY_ID = `query($ids: [ID!]!, $since: DateTime!) {
  defenderUsers(ids: $ids) {
    id isDomainAdmin
    alerts(since: $since, status: [NEW, IN_PROGRESS], first: 10) { id severity status }
    mostPrevalentMachine { ${MACHINE} }
    esetLinks { strongestRule esetUser { uuid protectionStatus } }
  }
}`;
const FLEET_VIEWS = `query($since: DateTime!) {
  peopleAtRisk(since: $since, first: ${TOP}) {
    totalCount complete
    edges { node {
      defender { id highestSeverity alertCount openAlertCount
        alerts(first: 10) { id severity status machine { ${MACHINE} } } }
      esetUsers { uuid protectionStatus }
      weakestProtection
    } }
  }
  defenderAlerts(filter: { createdSince: $since, statuses: [NEW, IN_PROGRESS] }, first: 0) { totalCount facets { severity { value count } } }
  defenderMachines(filter: { riskScore: [HIGH] }, first: 1) { totalCount complete facets { healthStatus { value count } osPlatform { value count } } }
}`;

/** The 50 riskiest accounts as a client ranks them from one page of alerts (highest severity, then open alerts). */
function rankInClient(a: Answer): string[] {
  const edges =
    (
      a.data?.defenderAlerts as {
        edges?: Array<{ node: { severity: string; status: string; relatedUser?: { defenderUserId?: string } | null } }>;
      } | null
    )?.edges ?? [];
  const by = new Map<string, { top: number; open: number }>();
  for (const { node } of edges) {
    const id = node.relatedUser?.defenderUserId;
    if (!id) continue;
    const r = by.get(id) ?? { top: 0, open: 0 };
    r.top = Math.max(r.top, SEVERITY_RANK[node.severity] ?? 0);
    if (OPEN.includes(node.status)) r.open++;
    by.set(id, r);
  }
  return [...by.entries()]
    .sort((x, y) => y[1].top - x[1].top || y[1].open - x[1].open || x[0].localeCompare(y[0]))
    .slice(0, TOP)
    .map(([id]) => id);
}

/** The 50 ids the per-user way looks up: the same accounts the fleet view ranks (the naive client is handed them). */
let topIds: string[] = [];
/** What the fleet view said of the listing: HIGH-risk machines counted, and whether the listing was whole. */
let fleetSeen: { highMachines?: number; complete?: boolean; alerts?: number; people?: number } = {};

const WAYS: Way[] = [
  {
    name: "fleet views (1 request)",
    async run(url, since) {
      const errors: Record<string, number> = {};
      const a = await post(url, FLEET_VIEWS, { since });
      tally(errors, a);
      const edges = (a.data?.peopleAtRisk as { edges?: Array<{ node: { defender: { id: string } } }> } | null)?.edges ?? [];
      if (topIds.length === 0) topIds = edges.map((e) => e.node.defender.id);
      const machines = a.data?.defenderMachines as { totalCount: number; complete: boolean } | null | undefined;
      fleetSeen = {
        highMachines: machines?.totalCount,
        complete: machines?.complete,
        alerts: (a.data?.defenderAlerts as { totalCount?: number } | null | undefined)?.totalCount,
        people: (a.data?.peopleAtRisk as { totalCount?: number } | null | undefined)?.totalCount,
      };
      return { requests: 1, errors };
    },
  },
  {
    name: "today's best (alerts, then users by id)",
    async run(url, since) {
      const errors: Record<string, number> = {};
      const a = await post(url, ALERTS_FIRST, { since });
      tally(errors, a);
      tally(errors, await post(url, USERS_BY_ID, { ids: rankInClient(a), since }));
      return { requests: 2, errors };
    },
  },
  {
    name: "per-user lookups (50 requests)",
    async run(url, since) {
      const errors: Record<string, number> = {};
      let requests = 0;
      for (const id of topIds) {
        // A dashboard retries a request refused for the quota (RATE_LIMITED) after a pause, as Defender's 429 asks.
        for (let attempt = 0; attempt < 20; attempt++) {
          requests++;
          const a = await post(url, PER_USER, { id, since });
          tally(errors, a);
          if (!(a.errors ?? []).some((e) => e.extensions?.code === "RATE_LIMITED")) break;
          await new Promise((r) => setTimeout(r, 5_000));
        }
      }
      return { requests, errors };
    },
  },
];

/** The gateway's estimate of its kept listings (usergraph_listings_bytes), in MB. */
async function listingsMb(url: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(`${new URL(url).origin}/metrics`)).text();
    const m = /^usergraph_listings_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(text);
    return m ? Math.round(Number(m[1]) / 1024 / 1024) : undefined;
  } catch {
    return undefined;
  }
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

interface Counts {
  defender: number;
  eset: number;
}

interface DashRow {
  way: string;
  cold: Counts & { requests: number; errors: Record<string, number>; wallMs: number };
  warm: Counts & { errors: Record<string, number>; wallMs: number };
  /** Fleet views only: the same dashboard a minute later, after Defender changed some alerts. */
  refresh?: Counts & { errors: Record<string, number>; wallMs: number; right: boolean };
  rssBefore: number;
  rssAfter: number;
  rssRefresh?: number;
  /** usergraph_listings_bytes after the cold run and after the refresh (the listing budget's own estimate). */
  listedMb?: number;
  listedMbRefresh?: number;
  machines: number;
  alerts: number;
}

/** Alerts updated in the window a dashboard of the last 7 days reads (the window starts on the hour). */
function alertsInWindow(sim: Simulator, since: string): number {
  const start = Math.floor(Date.parse(since) / 3_600_000) * 3_600_000;
  return [...sim.defenderAlerts.values()].filter((a) => Date.parse(String(a.lastUpdateTime)) >= start).length;
}

/** Open alerts created since `since`: what the dashboard's severity counts must add up to. */
function openSince(sim: Simulator, since: string): number {
  return [...sim.defenderAlerts.values()].filter(
    (a) => Date.parse(String(a.alertCreationTime)) >= Date.parse(since) && ["New", "InProgress"].includes(String(a.status)),
  ).length;
}

/** A minute of Defender: 200 open alerts resolved and 50 new ones, all updated now. */
function aMinuteLater(sim: Simulator): void {
  const now = new Date().toISOString();
  let resolved = 0;
  let added = 0;
  const alerts = [...sim.defenderAlerts.values()];
  for (const a of alerts) {
    if (resolved < 200 && ["New", "InProgress"].includes(String(a.status))) {
      a.status = "Resolved";
      a.lastUpdateTime = now;
      resolved++;
    }
  }
  for (const a of alerts.slice(0, 50)) {
    const id = `da-refresh-${added++}`;
    sim.defenderAlerts.set(id, { ...a, id, status: "New", severity: "High", alertCreationTime: now, lastUpdateTime: now });
  }
}

async function socDashboard(): Promise<string[]> {
  const since = new Date(Date.now() - 7 * 24 * 3_600_000).toISOString();
  const rows: DashRow[] = [];
  let highInFleet = 0;
  let firstSeen: typeof fleetSeen = {};
  // The demo's own machines and alerts come on top of the generated ones; the "exactly" run subtracts them.
  const demo = await startSimulator({});
  const demoMachines = demo.defenderMachines.size;
  const demoAlerts = alertsInWindow(demo, since);
  await demo.close();
  const runs: Array<{ way: Way; label: string; machines: number; alerts: number }> = [
    { way: WAYS[0]!, label: WAYS[0]!.name, machines: FLEET.machines, alerts: FLEET.alerts },
    {
      way: WAYS[0]!,
      label: "fleet views, 30,000 machines and 20,000 alerts in all",
      machines: FLEET.machines - demoMachines,
      alerts: FLEET.alerts - demoAlerts,
    },
    ...WAYS.slice(1).map((way) => ({ way, label: way.name, machines: FLEET.machines, alerts: FLEET.alerts })),
  ];
  for (const run of runs) {
    const way = run.way;
    const fleetWay = way === WAYS[0];
    const sim = await startSimulator({
      extraDefenderUsers: FLEET.users,
      extraDefenderMachines: run.machines,
      extraDefenderAlerts: run.alerts,
      extraEsetUsers: FLEET.esetUsers,
      latencyMs: 20,
    });
    if (run === runs[0]) highInFleet = [...sim.defenderMachines.values()].filter((m) => m.riskScore === "High").length;
    // The vendors' real limits, and listings kept for 5 minutes (the warm run is immediately after); the
    // alert window is refreshed by delta once a minute old (ALERT_DELTA_SECONDS' default).
    const child = await startChild("usergraph", {
      SIM_URL: sim.url,
      DEFENDER_TOKEN_URL: sim.defenderTokenUrl,
      ESET_TOKEN_URL: sim.esetTokenUrl,
      DEFENDER_RATE_LIMITS: "100/60s,1500/1h",
      ESET_RATE_LIMITS: "10/1s",
      CACHE_TTL_SECONDS: "300",
    });
    const url = child.info.url!;
    const counts = (): Counts => ({
      defender: sim.count({ source: "DEFENDER", kind: "api" }),
      eset: sim.count({ source: "ESET", kind: "api" }),
    });
    const diff = (a: Counts, b: Counts): Counts => ({ defender: b.defender - a.defender, eset: b.eset - a.eset });
    const rssBefore = rssMb(child.proc.pid!);
    const c0 = counts();
    let t = Date.now();
    const cold = await way.run(url, since);
    const coldMs = Date.now() - t;
    const c1 = counts();
    const rssAfter = rssMb(child.proc.pid!);
    const listedMb = await listingsMb(url);
    t = Date.now();
    const warm = await way.run(url, since);
    const warmMs = Date.now() - t;
    const c2 = counts();
    const row: DashRow = {
      way: run.label,
      cold: { ...diff(c0, c1), requests: cold.requests, errors: cold.errors, wallMs: coldMs },
      warm: { ...diff(c1, c2), errors: warm.errors, wallMs: warmMs },
      rssBefore,
      rssAfter,
      listedMb,
      machines: sim.defenderMachines.size,
      alerts: alertsInWindow(sim, since),
    };
    if (fleetWay) {
      aMinuteLater(sim);
      await new Promise((r) => setTimeout(r, 61_000));
      const c3 = counts();
      t = Date.now();
      const refresh = await way.run(url, since);
      const refreshMs = Date.now() - t;
      row.refresh = { ...diff(c3, counts()), errors: refresh.errors, wallMs: refreshMs, right: fleetSeen.alerts === openSince(sim, since) };
      row.rssRefresh = rssMb(child.proc.pid!);
      row.listedMbRefresh = await listingsMb(url);
    }
    rows.push(row);
    if (run === runs[0]) firstSeen = { ...fleetSeen };
    child.proc.kill("SIGINT");
    await new Promise((r) => child.proc.once("exit", r));
    await sim.close();
  }
  const errs = (e: Record<string, number>) => (Object.keys(e).length ? JSON.stringify(e) : "none");
  const cell = (f: (r: DashRow) => string) => rows.map(f).join(" | ");
  const dash = "—";
  const goal = (r: DashRow) =>
    Object.keys(r.cold.errors).length === 0 &&
    r.cold.defender <= 5 &&
    r.cold.eset <= 10 &&
    r.warm.defender + r.warm.eset === 0 &&
    r.refresh !== undefined &&
    r.refresh.defender + r.refresh.eset <= 2;
  const [fleet, exact] = [rows[0]!, rows[1]!];
  const pages = (n: number, size: number) => Math.ceil(n / size);
  return [
    `## SOC dashboard (issue 19): the ${TOP} riskiest people, their machines and open alerts, ESET protection, alerts by severity`,
    "",
    `Simulator fleet: ${FLEET.machines} bench machines (+ the demo's, ${fleet.machines} in all), ${FLEET.alerts} alerts over 7 days on ${FLEET.users} bench`,
    `users (+ the demo's, ${fleet.alerts} in the window), ${FLEET.esetUsers} ESET users, 20 ms latency; the second column sizes the generated`,
    `fleet so that there are exactly ${exact.machines} machines and ${exact.alerts} alerts in all. The gateway runs as its own process with the`,
    `vendors' real limits (Defender 100/min + 1500/h, ESET 10/s), CACHE_TTL_SECONDS=300 and ALERT_DELTA_SECONDS=60 (the default); each`,
    `column on a fresh simulator and gateway. "Warm" is the same dashboard again at once; "refresh after a minute" is the same dashboard`,
    `61 s later, after Defender resolved 200 open alerts and raised 50 new ones. RSS is the gateway process's VmRSS.`,
    "",
    `| | ${cell((r) => r.way)} |`,
    `|---|${rows.map(() => "---").join("|")}|`,
    `| GraphQL requests (cold) | ${cell((r) => String(r.cold.requests))} |`,
    `| Defender calls, cold | ${cell((r) => String(r.cold.defender))} |`,
    `| ESET calls, cold | ${cell((r) => String(r.cold.eset))} |`,
    `| wall time, cold | ${cell((r) => `${(r.cold.wallMs / 1000).toFixed(1)} s`)} |`,
    `| errors, cold | ${cell((r) => errs(r.cold.errors))} |`,
    `| Defender calls, warm | ${cell((r) => String(r.warm.defender))} |`,
    `| ESET calls, warm | ${cell((r) => String(r.warm.eset))} |`,
    `| wall time, warm | ${cell((r) => `${r.warm.wallMs} ms`)} |`,
    `| errors, warm | ${cell((r) => errs(r.warm.errors))} |`,
    `| Defender calls, refresh after a minute | ${cell((r) => (r.refresh ? String(r.refresh.defender) : dash))} |`,
    `| ESET calls, refresh after a minute | ${cell((r) => (r.refresh ? String(r.refresh.eset) : dash))} |`,
    `| wall time, refresh after a minute | ${cell((r) => (r.refresh ? `${r.refresh.wallMs} ms` : dash))} |`,
    `| refresh: open-alert count as the simulator's now | ${cell((r) => (r.refresh ? (r.refresh.right ? "yes" : "NO") : dash))} |`,
    `| gateway RSS before → after cold | ${cell((r) => `${r.rssBefore} → ${r.rssAfter} MB (+${r.rssAfter - r.rssBefore})`)} |`,
    `| gateway RSS after the refresh | ${cell((r) => (r.rssRefresh !== undefined ? `${r.rssRefresh} MB` : dash))} |`,
    `| kept listings, usergraph_listings_bytes, after cold / after the refresh | ${cell((r) => `${r.listedMb ?? "?"} MB / ${r.listedMbRefresh ?? dash} MB`)} |`,
    "",
    `Goal (cold ≤ 5 Defender and ≤ 10 ESET calls, warm 0, refresh after a minute ≤ 2) with the fleet views: ` +
      `${goal(fleet) ? "met" : "NOT met"} at ${fleet.machines} machines and ${fleet.alerts} alerts ` +
      `(${fleet.cold.defender} Defender, ${fleet.cold.eset} ESET cold; ${fleet.warm.defender} + ${fleet.warm.eset} warm; ` +
      `${fleet.refresh?.defender} + ${fleet.refresh?.eset} a minute later), ` +
      `${goal(exact) ? "met" : "NOT met"} at ${exact.machines} and ${exact.alerts} ` +
      `(${exact.cold.defender} + ${exact.cold.eset} cold, ${exact.warm.defender} + ${exact.warm.eset} warm, ${exact.refresh?.defender} + ${exact.refresh?.eset} a minute later).`,
    `Cold, the fleet views cost exactly their listings' pages at 10,000 a page (Defender's $top limit): the alert window ` +
      `${pages(fleet.alerts, 10_000)} + the fleet ${pages(fleet.machines, 10_000)} = ${pages(fleet.alerts, 10_000) + pages(fleet.machines, 10_000)} at ${fleet.alerts} alerts and ${fleet.machines} machines, ` +
      `${pages(exact.alerts, 10_000)} + ${pages(exact.machines, 10_000)} at ${exact.alerts} and ${exact.machines}; ESET's user list at 1,000 a page. Fewer would mean incomplete listings.`,
    `In the first column the fleet view counted ${firstSeen.highMachines ?? "?"} HIGH-risk machines of the simulator's ${highInFleet} ` +
      `(listing complete: ${String(firstSeen.complete)}), ${firstSeen.alerts ?? "?"} open alerts since the window's start after the refresh, ` +
      `${firstSeen.people ?? "?"} people at risk.`,
    "",
    ...[...firstMessages].map(([code, message]) => `- ${code}: ${message}`),
  ];
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
