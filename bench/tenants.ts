import { readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { startChild, type Child } from "./children";

/**
 * `npm run bench:tenants`: what tenants cost on one replica. A gateway with TENANTS (200) tenants in its
 * TENANTS_FILE and one with a single tenant, on one simulator, each in its own process:
 * - memory after start (every tenant idle) and after each tenant was asked once (tokens, clients, rate
 *   limiters, breakers, stores), garbage collected first: per idle and per started tenant;
 * - requests a second and gateway CPU per request, cache warm, with the requests spread over every tenant
 *   against all on one tenant, and against the single-tenant gateway (the same `tenant(id:)` query).
 * Interleaved rounds, medians; the table goes to bench/tenants-results.md.
 */
const TENANTS = Number(process.env.TENANTS ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
/** Ids asked per tenant (each tenant's cache holds them once warm). */
const IDS = 20;
const KEY = "bench-tenants-api-key-0123456789";
const root = join(__dirname, "..", "..");
const tenantId = (i: number): string => `t${String(i).padStart(3, "0")}`;
const userId = (i: number): string => `bench\\user${String(i % IDS).padStart(6, "0")}`;
const esetUuid = (i: number): string => `00000000-0000-4000-8000-000000${String(i % IDS).padStart(6, "0")}`;

const LOOKUP = "query Lookup($t: ID!, $id: ID!) { tenant(id: $t) { defenderUser(id: $id) { id accountName lastSeen } } }";
const START =
  "query Start($t: ID!, $id: ID!, $uuid: ID!) { tenant(id: $t) { defenderUser(id: $id) { id } esetUser(uuid: $uuid) { uuid } } }";

interface Mem {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  started: number;
}

async function mem(gw: Child): Promise<Mem> {
  return (await (await fetch(`${gw.info.control}/mem`)).json()) as Mem;
}

async function post(gw: Child, query: string, variables: Record<string, unknown>): Promise<void> {
  const res = await fetch(gw.info.url!, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": KEY },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { errors?: unknown[] };
  if (res.status !== 200 || body.errors) throw new Error(`bench request failed: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
}

/** Each of `count` tenants asked `perTenant` ids, a few tenants at a time. */
async function warm(gw: Child, count: number, perTenant: number, query: string): Promise<void> {
  const jobs = Array.from({ length: count }, (_, t) => t);
  const worker = async () => {
    for (let t = jobs.shift(); t !== undefined; t = jobs.shift())
      for (let i = 0; i < perTenant; i++) await post(gw, query, { t: tenantId(t), id: userId(i), uuid: esetUuid(i) });
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

function cpuMicros(pid: number | undefined): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8")
    .replace(/^.*\) /, "")
    .split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / 100;
}

/** One autocannon run: the lookup for tenant `spread(i)` and id i; requests a second and gateway CPU µs per request. */
async function run(gw: Child, spread: (i: number) => number): Promise<{ rps: number; cpuUs: number; calls: number }> {
  let i = 0;
  await vendorCalls();
  const before = cpuMicros(gw.proc.pid);
  const result = await autocannon({
    url: gw.info.url!,
    connections: CONNECTIONS,
    duration: DURATION_S,
    requests: [
      {
        setupRequest: (req) => {
          const n = i++;
          const body = JSON.stringify({ query: LOOKUP, variables: { t: tenantId(spread(n)), id: userId(n) } });
          return { ...req, method: "POST", path: "/graphql", headers: { "content-type": "application/json", "x-api-key": KEY }, body };
        },
      },
    ],
  });
  const cpu = cpuMicros(gw.proc.pid) - before;
  const ok = result["2xx"];
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`bench run had ${result.non2xx} non-2xx and ${result.errors} errors`);
  return { rps: ok / DURATION_S, cpuUs: cpu / ok, calls: await vendorCalls() };
}

let simControl = "";
/** Vendor API calls since the last look (the simulator's control port). */
async function vendorCalls(): Promise<number> {
  const stats = (await (await fetch(`${simControl}/stats`)).json()) as { DEFENDER: number; ESET: number };
  return stats.DEFENDER + stats.ESET;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mb = (bytes: number): string => (bytes / 1048576).toFixed(1);
const kb = (bytes: number): string => (bytes / 1024).toFixed(1);

async function main(): Promise<void> {
  const sim = await startChild("simulator", { BENCH_USERS: "100" });
  simControl = sim.info.control!;
  const env = { SIM_URL: sim.info.url!, DEFENDER_TOKEN_URL: sim.info.defenderTokenUrl!, ESET_TOKEN_URL: sim.info.esetTokenUrl! };
  const one = await startChild("usergraph-tenants", { ...env, TENANTS: "1" });
  const many = await startChild("usergraph-tenants", { ...env, TENANTS: String(TENANTS) });
  try {
    // Memory: both idle (the one tenant of a single-tenant gateway starts with it), then every tenant asked once.
    await new Promise((r) => setTimeout(r, 1000));
    const idle1 = await mem(one);
    const idleN = await mem(many);
    await warm(one, 1, 1, START);
    await warm(many, TENANTS, 1, START);
    const started1 = await mem(one);
    const startedN = await mem(many);
    if (startedN.started !== TENANTS) throw new Error(`${startedN.started} of ${TENANTS} tenants started`);

    // Throughput, cache warm: every tenant's IDS ids cached first.
    await warm(one, 1, IDS, LOOKUP);
    await warm(many, TENANTS, IDS, LOOKUP);
    const warmN = await mem(many);
    const cells = {
      "single-tenant gateway": { gw: one, spread: () => 0 },
      [`${TENANTS}-tenant gateway, all on one tenant`]: { gw: many, spread: () => 0 },
      [`${TENANTS}-tenant gateway, spread over ${TENANTS}`]: { gw: many, spread: (n: number) => n % TENANTS },
    };
    const results = new Map<string, Array<{ rps: number; cpuUs: number; calls: number }>>();
    for (let round = 0; round < ROUNDS + 1; round++) {
      for (const [name, cell] of Object.entries(cells)) {
        const r = await run(cell.gw, cell.spread);
        // The first round warms the JIT: not counted.
        if (round > 0) results.set(name, [...(results.get(name) ?? []), r]);
      }
    }

    const perIdle = {
      rss: (idleN.rss - idle1.rss) / (TENANTS - 1),
      heap: (idleN.heapUsed - idle1.heapUsed) / (TENANTS - 1),
    };
    const perStarted = {
      rss: (startedN.rss - idleN.rss - (started1.rss - idle1.rss)) / (TENANTS - 1),
      heap: (startedN.heapUsed - idleN.heapUsed - (started1.heapUsed - idle1.heapUsed)) / (TENANTS - 1),
    };
    const base = results.get("single-tenant gateway")!;
    const baseRps = median(base.map((r) => r.rps));
    const baseCpu = median(base.map((r) => r.cpuUs));
    const lines = [
      `# bench:tenants — ${new Date().toISOString().slice(0, 10)}`,
      "",
      `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, node ${process.version}; ${TENANTS} tenants on one simulator (same credentials, kept apart by tenant id), default vendor rate limits, cache TTL 600 s; ${ROUNDS} interleaved rounds of ${DURATION_S} s at ${CONNECTIONS} connections after one warm-up round, medians. Memory after two forced GCs.`,
      "",
      "## Memory",
      "",
      "| gateway | state | RSS MB | heap used MB | external MB | tenants started |",
      "|---|---|---|---|---|---|",
      `| 1 tenant | idle (after start) | ${mb(idle1.rss)} | ${mb(idle1.heapUsed)} | ${mb(idle1.external)} | ${idle1.started} |`,
      `| 1 tenant | asked once | ${mb(started1.rss)} | ${mb(started1.heapUsed)} | ${mb(started1.external)} | ${started1.started} |`,
      `| ${TENANTS} tenants | idle (after start) | ${mb(idleN.rss)} | ${mb(idleN.heapUsed)} | ${mb(idleN.external)} | ${idleN.started} |`,
      `| ${TENANTS} tenants | each asked once | ${mb(startedN.rss)} | ${mb(startedN.heapUsed)} | ${mb(startedN.external)} | ${startedN.started} |`,
      `| ${TENANTS} tenants | ${IDS} users cached per tenant | ${mb(warmN.rss)} | ${mb(warmN.heapUsed)} | ${mb(warmN.external)} | ${warmN.started} |`,
      "",
      `Per idle tenant: ${kb(perIdle.heap)} KB of heap, ${kb(perIdle.rss)} KB of RSS (${TENANTS} idle against 1, over ${TENANTS - 1}).`,
      `Per started tenant (tokens, clients, rate limiters, breakers, stores; its first answers cached): ${kb(perStarted.heap)} KB of heap, ${kb(perStarted.rss)} KB of RSS (what starting ${TENANTS} added beyond starting 1, over ${TENANTS - 1}).`,
      "",
      "## Request rate and CPU per request (cache warm, `tenant(id:) { defenderUser }`)",
      "",
      "| cell | req/s | gateway CPU µs/req | req/s ratio | CPU ratio |",
      "|---|---|---|---|---|",
      ...[...results].map(([name, rs]) => {
        const rps = median(rs.map((r) => r.rps));
        const cpu = median(rs.map((r) => r.cpuUs));
        return `| ${name} | ${rps.toFixed(0)} | ${cpu.toFixed(0)} | ${(rps / baseRps).toFixed(2)} | ${(cpu / baseCpu).toFixed(2)} |`;
      }),
      "",
      `Rounds (req/s / µs per request / vendor calls): ${[...results].map(([name, rs]) => `${name}: ${rs.map((r) => `${r.rps.toFixed(0)}/${r.cpuUs.toFixed(0)}/${r.calls}`).join(", ")}`).join("; ")}.`,
      "",
    ];
    const table = lines.join("\n");
    process.stdout.write(`${table}\n`);
    if (process.env.BENCH_WRITE !== "0") writeFileSync(join(root, "bench", "tenants-results.md"), table);
  } finally {
    for (const c of [one, many, sim]) c.proc.kill("SIGINT");
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
