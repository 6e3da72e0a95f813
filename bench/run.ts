import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { simulatorTokens, startChild as start, type Child } from "./children";

/**
 * `npm run bench`: the simulator (fixed latency, no faults) and every system under test in their own
 * processes, autocannon here; interleaved rounds, medians, ratios against the targets of issue 5, and the
 * table written to bench/results.md.
 */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const LATENCIES = (process.env.BENCH_LATENCIES ?? "5,50").split(",").map(Number);
const POOL = 20_000;
const WARM_POOL = 1000;
const root = join(__dirname, "..", "..");

type SystemId = "a" | "b" | "c" | "d" | "e" | "f" | "g" | "h" | "i" | "j";
type QueryId = "one-defender" | "one-eset" | "defender-25" | "eset-100" | "both" | "typename";
const SYSTEMS: Record<SystemId, string> = {
  a: "(a) upstream direct",
  b: "(b) thin proxy",
  c: "(c) Apollo + datasource-rest",
  d: "(d) usergraph, cache off",
  e: "(e) usergraph, cache warm",
  f: "(f) baseline usergraph, cache off",
  g: "(g) baseline usergraph, cache warm",
  h: "(h) usergraph, registered documents (documentId, the fast path), cache off",
  i: "(i) usergraph, cache off, a second copy of (d) (the noise)",
  j: "(j) usergraph, registered documents (documentId), fast path off (Apollo, graphql-js), cache off",
};
/**
 * BENCH_BASELINE=<dir>: another checkout of usergraph (say the previous main in a git worktree, with its
 * `npm ci` done) whose bench is compiled there first; its usergraph runs as (f) and (g) beside (d) and (e)
 * in the same interleaved rounds, and a table gives the ratios. BENCH_SYSTEMS / BENCH_QUERIES narrow a run.
 */
const BASELINE = process.env.BENCH_BASELINE;
const ONLY_SYSTEMS = process.env.BENCH_SYSTEMS?.split(",");
if (!BASELINE) {
  delete (SYSTEMS as Partial<Record<SystemId, string>>).f;
  delete (SYSTEMS as Partial<Record<SystemId, string>>).g;
}
for (const s of Object.keys(SYSTEMS) as SystemId[])
  if (ONLY_SYSTEMS && !ONLY_SYSTEMS.includes(s)) delete (SYSTEMS as Partial<Record<SystemId, string>>)[s];
const QUERIES: QueryId[] = (["one-defender", "one-eset", "defender-25", "eset-100", "both", "typename"] as QueryId[]).filter(
  (q) => !process.env.BENCH_QUERIES || process.env.BENCH_QUERIES.split(",").includes(q),
);

const defenderId = (i: number) => `bench\\user${String(i % POOL).padStart(6, "0")}`;
const esetUuid = (i: number) => `00000000-0000-4000-8000-000000${String(i % POOL).padStart(6, "0")}`;

const GQL = {
  "one-defender": "query OneDefender($id: ID!) { defenderUser(id: $id) { id accountName logonTypes lastSeen isDomainAdmin } }",
  "one-eset": "query OneEset($uuid: ID!) { esetUser(uuid: $uuid) { uuid displayName protectionStatus activeProductIds } }",
  "defender-25": "query Defender25($ids: [ID!]!) { defenderUsers(ids: $ids) { id accountName logonTypes lastSeen } }",
  "eset-100": "query Eset100($uuids: [ID!]!) { esetUsers(uuids: $uuids) { uuid displayName protectionStatus } }",
  both: "query Both($id: ID!, $uuid: ID!) { defenderUser(id: $id) { id logonTypes } esetUser(uuid: $uuid) { displayName identities { providerType } } }",
  typename: "{ __typename }",
};
const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

function peakRssMb(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)![1]) / 1024);
}

/** Waits until no upstream call arrives for 300 ms; returns the calls counted since the last read. */
async function quiesce(sim: Child): Promise<{ DEFENDER: number; ESET: number }> {
  const total = await control(sim, "/stats");
  for (;;) {
    await new Promise((r) => setTimeout(r, 300));
    const more = await control(sim, "/stats");
    if (more.DEFENDER + more.ESET === 0) return total;
    total.DEFENDER += more.DEFENDER;
    total.ESET += more.ESET;
  }
}

async function control(sim: Child, path: string): Promise<{ DEFENDER: number; ESET: number }> {
  return (await (await fetch(sim.info.control + path)).json()) as { DEFENDER: number; ESET: number };
}

/** Builds the request a system gets for a query; `warm` keeps ids inside the pre-warmed pool. */
function requestFor(system: SystemId, query: QueryId, i: number, tokens: { defender: string; eset: string }) {
  const warm = system === "e" || system === "g";
  const n = warm ? i % WARM_POOL : i;
  const ids25 = Array.from({ length: 25 }, (_, k) => defenderId(warm ? (n * 25 + k) % WARM_POOL : n * 25 + k));
  const uuids100 = Array.from({ length: 100 }, (_, k) => esetUuid(warm ? (n * 100 + k) % WARM_POOL : n * 100 + k));
  if (system === "a") {
    if (query === "one-defender")
      return {
        method: "GET",
        path: `/api/users/${encodeURIComponent(defenderId(n))}`,
        headers: { authorization: `Bearer ${tokens.defender}` },
      };
    if (query === "one-eset")
      return { method: "GET", path: `/v1/users/${esetUuid(n)}`, headers: { authorization: `Bearer ${tokens.eset}` } };
    if (query === "eset-100") {
      return {
        method: "POST",
        path: "/v1/users:batchGetUsers",
        headers: { authorization: `Bearer ${tokens.eset}`, "content-type": "application/json" },
        body: JSON.stringify({ usersUuids: uuids100 }),
      };
    }
    return undefined;
  }
  if (system === "b") {
    const body =
      query === "one-defender"
        ? { defender: [defenderId(n)] }
        : query === "one-eset"
          ? { eset: [esetUuid(n)] }
          : query === "defender-25"
            ? { defender: ids25 }
            : query === "eset-100"
              ? { eset: uuids100 }
              : query === "both"
                ? { defender: [defenderId(n)], eset: [esetUuid(n)] }
                : undefined;
    return body && { method: "POST", path: "/", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
  }
  if (query === "typename" && system === "c") return undefined;
  const variables = { id: defenderId(n), uuid: esetUuid(n), ids: ids25, uuids: uuids100 };
  // (h) and (j) name the registered document by its hash (the GraphQL-over-HTTP persisted-documents form).
  const document = system === "h" || system === "j" ? { documentId: `sha256:${sha256(GQL[query])}` } : { query: GQL[query] };
  return {
    method: "POST",
    path: "/graphql",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...document, variables }),
  };
}

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  callsPerQuery: number;
  errors: number;
  /** CPU time the system's process spent per answered request (user + system, from /proc): far less noisy than req/s on a shared machine. */
  cpuUsPerRequest: number;
}

/** A process's CPU time so far (user + system), in microseconds, from /proc/<pid>/stat (Linux). */
function cpuMicros(pid: number | undefined): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8")
    .replace(/^.*\) /, "")
    .split(" ");
  // After the command name: state is field 3, utime 14, stime 15 (1-based in proc(5)); here shifted by 3.
  return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / CLOCK_TICKS;
}
/** USER_HZ: 100 on Linux for every architecture Node runs on. */
const CLOCK_TICKS = 100;

async function measure(
  url: string,
  sim: Child,
  build: (i: number) => ReturnType<typeof requestFor>,
  connections = CONNECTIONS,
  pid?: number,
): Promise<Sample> {
  await quiesce(sim);
  const cpuBefore = pid === undefined ? 0 : cpuMicros(pid);
  let i = Math.floor(Math.random() * POOL);
  const result = await autocannon({
    url,
    connections,
    duration: DURATION_S,
    requests: [
      {
        setupRequest: (req) => {
          const r = build(i++)!;
          return { ...req, method: r.method as "GET" | "POST", path: r.path, headers: r.headers, body: r.body } as typeof req;
        },
      },
    ],
  });
  // A system may still be working on requests autocannon gave up waiting for: let it finish, so its calls
  // are counted here and never land in the next cell's window.
  const after = await quiesce(sim);
  const cpu = pid === undefined ? NaN : cpuMicros(pid) - cpuBefore;
  const ok = result["2xx"];
  const sent = result.requests.sent;
  return {
    rps: ok / DURATION_S,
    p50: result.latency.p50,
    p99: result.latency.p99,
    callsPerQuery: sent === 0 ? 0 : (after.DEFENDER + after.ESET) / sent,
    errors: result.non2xx + result.errors + result.timeouts,
    cpuUsPerRequest: ok === 0 ? NaN : cpu / ok,
  };
}

/**
 * One connection, one request at a time: p50 is then the latency a system adds, not queueing behind its
 * own throughput, the fair reading for "p50 within 1 ms". (autocannon's overallRate pacing reported p50s
 * below the upstream latency itself, so it is not used.)
 */

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const sim = await start("simulator", { BENCH_USERS: String(POOL) });
  const env = { SIM_URL: sim.info.url!, DEFENDER_TOKEN_URL: sim.info.defenderTokenUrl!, ESET_TOKEN_URL: sim.info.esetTokenUrl! };
  const tokens = await simulatorTokens(sim.info.defenderTokenUrl!, sim.info.esetTokenUrl!);
  // The bench's queries as a client's Apollo persisted query manifest, for (h) and (j), which enforce it.
  const manifest = join(mkdtempSync(join(tmpdir(), "usergraph-bench-")), "manifest.json");
  writeFileSync(
    manifest,
    JSON.stringify({
      format: "apollo-persisted-query-manifest",
      version: 1,
      operations: Object.entries(GQL).map(([name, body]) => ({ id: sha256(body), name, type: "query", body })),
    }),
  );
  const registered = { TRUSTED_DOCUMENTS: "enforce", TRUSTED_DOCUMENTS_MANIFESTS: manifest };
  const wanted = (s: SystemId) => !ONLY_SYSTEMS || ONLY_SYSTEMS.includes(s);
  const children: Record<Exclude<SystemId, "a">, Child> = {
    b: await start("thin-proxy", env),
    c: await start("apollo-datasource-rest", env),
    d: await start("usergraph", { ...env, CACHE_TTL_SECONDS: "0" }),
    e: await start("usergraph", { ...env, CACHE_TTL_SECONDS: "86400" }),
    ...(wanted("h") ? { h: await start("usergraph", { ...env, CACHE_TTL_SECONDS: "0", ...registered }) } : {}),
    ...(wanted("i") ? { i: await start("usergraph", { ...env, CACHE_TTL_SECONDS: "0" }) } : {}),
    ...(wanted("j")
      ? { j: await start("usergraph", { ...env, CACHE_TTL_SECONDS: "0", ...registered, TRUSTED_DOCUMENTS_COMPILED: "0" }) }
      : {}),
    ...(BASELINE
      ? {
          f: await start("usergraph", { ...env, CACHE_TTL_SECONDS: "0" }, BASELINE),
          g: await start("usergraph", { ...env, CACHE_TTL_SECONDS: "86400" }, BASELINE),
        }
      : {}),
  } as Record<Exclude<SystemId, "a">, Child>;
  const urlOf = (s: SystemId) => (s === "a" ? sim.info.url! : children[s].info.url!.replace(/\/graphql$|\/$/, ""));

  // Warm (e) (and (g)): every id of its pool once (100 ids a request: MAX_DEFENDER_IDS).
  for (const warm of BASELINE ? (["e", "g"] as const) : (["e"] as const)) {
    for (let k = 0; k < WARM_POOL; k += 100) {
      const ids = Array.from({ length: 100 }, (_, j) => defenderId(k + j));
      await fetch(`${urlOf(warm)}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: GQL["defender-25"], variables: { ids } }),
      });
    }
    await fetch(`${urlOf(warm)}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: GQL["eset-100"], variables: { uuids: Array.from({ length: WARM_POOL }, (_, j) => esetUuid(j)) } }),
    });
  }

  const samples = new Map<string, Sample[]>();
  const key = (l: number, s: SystemId, q: QueryId) => `${l}|${s}|${q}`;
  for (let round = 1; round <= ROUNDS; round++) {
    for (const latency of LATENCIES) {
      await control(sim, `/latency?ms=${latency}`);
      for (const query of QUERIES) {
        for (const system of Object.keys(SYSTEMS) as SystemId[]) {
          if (!requestFor(system, query, 0, tokens)) continue;
          const pid = system === "a" ? sim.proc.pid : children[system].proc.pid;
          const sample = await measure(urlOf(system), sim, (i) => requestFor(system, query, i, tokens), CONNECTIONS, pid);
          const k = key(latency, system, query);
          samples.set(k, [...(samples.get(k) ?? []), sample]);
          process.stderr.write(`round ${round} ${latency}ms ${query} ${system}: ${sample.rps.toFixed(0)} req/s p50 ${sample.p50} ms\n`);
        }
      }
      for (const system of (["b", "d"] as const).filter((x) => x in SYSTEMS)) {
        const sample = await measure(urlOf(system), sim, (i) => requestFor(system, "one-defender", i, tokens), 1);
        const k = key(latency, system, "paced" as QueryId);
        samples.set(k, [...(samples.get(k) ?? []), sample]);
        process.stderr.write(`round ${round} ${latency}ms one-connection ${system}: p50 ${sample.p50} ms\n`);
      }
    }
  }

  const rss: Record<string, number> = {
    a: peakRssMb(sim.proc.pid),
    b: peakRssMb(children.b.proc.pid),
    c: peakRssMb(children.c.proc.pid),
    d: peakRssMb(children.d.proc.pid),
    e: peakRssMb(children.e.proc.pid),
  };
  if (BASELINE) Object.assign(rss, { f: peakRssMb(children.f.proc.pid), g: peakRssMb(children.g.proc.pid) });
  const med = (l: number, s: SystemId, q: QueryId) => {
    const xs = samples.get(key(l, s, q));
    if (!xs) return undefined;
    return {
      rps: median(xs.map((x) => x.rps)),
      p50: median(xs.map((x) => x.p50)),
      p99: median(xs.map((x) => x.p99)),
      calls: median(xs.map((x) => x.callsPerQuery)),
      errors: xs.reduce((a, x) => a + x.errors, 0),
      cpu: median(xs.map((x) => x.cpuUsPerRequest)),
    };
  };

  const lines: string[] = [];
  lines.push(`# usergraph benchmark`, "");
  lines.push(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.version}.`);
  const pkg = (name: string) =>
    (JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
  lines.push(
    `Versions: @apollo/server ${pkg("@apollo/server")}, graphql ${pkg("graphql")}, type-graphql ${pkg("type-graphql")}, fastify ${pkg("fastify")}, undici ${pkg("undici")}, @apollo/datasource-rest ${pkg("@apollo/datasource-rest")}, autocannon ${pkg("autocannon")}.`,
  );
  lines.push(
    `Method: ${ROUNDS} interleaved rounds × ${DURATION_S} s per cell, ${CONNECTIONS} connections, medians shown; every process on the same 2-core machine (simulator, the systems and autocannon compete for CPU, so compare ratios within this run, not absolute numbers). Distinct ids per request for (a)–(d); (e) cycles through ${WARM_POOL} pre-warmed ids. usergraph runs with LOG_LEVEL=info (one log line per request), rate limits off.`,
    "",
  );

  for (const latency of LATENCIES) {
    lines.push(
      `## Upstream latency ${latency} ms`,
      "",
      "| query | system | req/s | p50 ms | p99 ms | upstream calls/query | errors | CPU µs/request |",
      "|---|---|---|---|---|---|---|---|",
    );
    for (const query of QUERIES) {
      for (const system of Object.keys(SYSTEMS) as SystemId[]) {
        const m = med(latency, system, query);
        if (!m) continue;
        lines.push(
          `| ${query} | ${SYSTEMS[system]} | ${m.rps.toFixed(0)} | ${m.p50.toFixed(1)} | ${m.p99.toFixed(1)} | ${m.calls.toFixed(2)} | ${m.errors} | ${Number.isNaN(m.cpu) ? "n/a" : m.cpu.toFixed(0)} |`,
        );
      }
    }
    lines.push("");
  }
  lines.push("## Peak RSS", "", "| system | MiB |", "|---|---|");
  lines.push(
    `| simulator (serves (a)) | ${rss.a} |`,
    `| (b) thin proxy | ${rss.b} |`,
    `| (c) Apollo + datasource-rest | ${rss.c} |`,
    `| (d) usergraph, cache off | ${rss.d} |`,
    `| (e) usergraph, cache warm | ${rss.e} |`,
    "",
  );

  if ("h" in SYSTEMS && "d" in SYSTEMS) {
    lines.push(
      "## Registered documents (issue 21)",
      "",
      "Ratios of req/s (above 1 is faster) and of CPU time per answered request (below 1 costs less), medians of the same",
      "interleaved rounds. (i)/(d) is usergraph against a second copy of itself: how far apart two identical systems read on",
      "this machine in this run, the noise any other ratio must clear.",
      "",
      "| latency | query | (h)/(d) req/s | (h)/(d) CPU/req | (j)/(d) CPU/req | (i)/(d) req/s (noise) | (i)/(d) CPU/req (noise) | (h)/(b) req/s | (h)/(c) req/s | p99 (h) vs (c) ms |",
      "|---|---|---|---|---|---|---|---|---|---|",
    );
    for (const latency of LATENCIES) {
      for (const query of QUERIES) {
        const rps = (a: SystemId, b: SystemId) => {
          const x = med(latency, a, query);
          const y = med(latency, b, query);
          return x && y ? `${(x.rps / y.rps).toFixed(2)} (${x.rps.toFixed(0)} vs ${y.rps.toFixed(0)})` : "n/a";
        };
        const cpu = (a: SystemId, b: SystemId) => {
          const x = med(latency, a, query);
          const y = med(latency, b, query);
          return x && y ? `${(x.cpu / y.cpu).toFixed(2)} (${x.cpu.toFixed(0)} vs ${y.cpu.toFixed(0)} µs)` : "n/a";
        };
        const h = med(latency, "h", query);
        const c = med(latency, "c", query);
        lines.push(
          `| ${latency} ms | ${query} | ${rps("h", "d")} | ${cpu("h", "d")} | ${cpu("j", "d")} | ${rps("i", "d")} | ${cpu("i", "d")} | ${rps("h", "b")} | ${rps("h", "c")} | ${h && c ? `${h.p99.toFixed(0)} vs ${c.p99.toFixed(0)}` : "n/a"} |`,
        );
      }
    }
    lines.push("");
  }

  if (BASELINE) {
    lines.push(
      "## Against the baseline",
      "",
      `Baseline: the checkout in \`${BASELINE}\`, measured in the same interleaved rounds. Ratio = this checkout's req/s ÷ the baseline's;`,
      "CPU = this checkout's CPU time per answered request ÷ the baseline's (the steadier reading on a shared machine: above 1 costs more).",
      "",
    );
    lines.push(
      "| latency | query | cache off (d)/(f) req/s | cache warm (e)/(g) req/s | cache off CPU/req | cache warm CPU/req |",
      "|---|---|---|---|---|---|",
    );
    for (const latency of LATENCIES) {
      for (const query of QUERIES) {
        const r = (a: SystemId, b: SystemId) => {
          const x = med(latency, a, query);
          const y = med(latency, b, query);
          return x && y ? `${(x.rps / y.rps).toFixed(3)} (${x.rps.toFixed(0)} vs ${y.rps.toFixed(0)})` : "n/a";
        };
        const c = (a: SystemId, b: SystemId) => {
          const x = med(latency, a, query);
          const y = med(latency, b, query);
          return x && y ? `${(x.cpu / y.cpu).toFixed(3)} (${x.cpu.toFixed(0)} vs ${y.cpu.toFixed(0)} µs)` : "n/a";
        };
        lines.push(`| ${latency} ms | ${query} | ${r("d", "f")} | ${r("e", "g")} | ${c("d", "f")} | ${c("e", "g")} |`);
      }
    }
    lines.push("");
  }
  if (ONLY_SYSTEMS || process.env.BENCH_QUERIES) {
    const table = lines.join("\n") + "\n";
    process.stdout.write(table);
    for (const c of [sim, ...Object.values(children)]) c.proc.kill("SIGKILL");
    return;
  }
  lines.push("## Targets", "", "| target | measured | met |", "|---|---|---|");
  const target = (name: string, value: number | undefined, ok: (v: number) => boolean, fmt: (v: number) => string) =>
    lines.push(
      `| ${name} | ${value === undefined || Number.isNaN(value) ? "n/a" : fmt(value)} | ${value !== undefined && ok(value) ? "yes" : "**no**"} |`,
    );
  const ratio = (v: number) => `${v.toFixed(2)}×`;
  for (const latency of LATENCIES) {
    for (const q of ["defender-25", "eset-100"] as const) {
      target(
        `(d) ≥ 1.5× (c) throughput, ${q}, ${latency} ms`,
        med(latency, "d", q)!.rps / med(latency, "c", q)!.rps,
        (v) => v >= 1.5,
        ratio,
      );
    }
    target(
      `(d) ≥ 0.5× (b) throughput, one-defender, ${latency} ms`,
      med(latency, "d", "one-defender")!.rps / med(latency, "b", "one-defender")!.rps,
      (v) => v >= 0.5,
      ratio,
    );
    target(
      `(d) p50 within 1 ms of (b), one-defender, ${latency} ms, saturated (${CONNECTIONS} connections)`,
      med(latency, "d", "one-defender")!.p50 - med(latency, "b", "one-defender")!.p50,
      (v) => v <= 1,
      (v) => `${v.toFixed(1)} ms`,
    );
    target(
      `(d) p50 within 1 ms of (b), one-defender, ${latency} ms, one connection`,
      med(latency, "d", "paced" as QueryId)!.p50 - med(latency, "b", "paced" as QueryId)!.p50,
      (v) => v <= 1,
      (v) => `${v.toFixed(1)} ms`,
    );
    for (const q of ["one-defender", "one-eset", "defender-25", "eset-100", "both"] as const) {
      target(
        `(e) ≥ 0.8× \`{ __typename }\` throughput, ${q}, ${latency} ms`,
        med(latency, "e", q)!.rps / med(latency, "e", "typename")!.rps,
        (v) => v >= 0.8,
        ratio,
      );
    }
    // Issue 21: registered documents against the thin proxy and Apollo + RESTDataSource.
    if (med(latency, "h", "one-defender")) {
      const h = (q: QueryId) => med(latency, "h", q)!;
      target(
        `(h) ≥ 0.8× (b) throughput, one-defender, ${latency} ms`,
        h("one-defender").rps / med(latency, "b", "one-defender")!.rps,
        (v) => v >= 0.8,
        ratio,
      );
      target(
        `(h) ≥ 1.5× (c) throughput, one-defender, ${latency} ms`,
        h("one-defender").rps / med(latency, "c", "one-defender")!.rps,
        (v) => v >= 1.5,
        ratio,
      );
      target(
        `(h) p99 ≤ (c) p99, one-defender, ${latency} ms`,
        h("one-defender").p99 - med(latency, "c", "one-defender")!.p99,
        (v) => v <= 0,
        (v) => `${v.toFixed(1)} ms`,
      );
      target(
        `(h) ≥ 0.9× (b) throughput, defender-25, ${latency} ms`,
        h("defender-25").rps / med(latency, "b", "defender-25")!.rps,
        (v) => v >= 0.9,
        ratio,
      );
    }
    target(
      `eset-100 = 1 upstream call, (d), ${latency} ms`,
      med(latency, "d", "eset-100")!.calls,
      (v) => Math.abs(v - 1) < 0.01,
      (v) => v.toFixed(2),
    );
    target(
      `defender-25 = 25 upstream calls, (d), ${latency} ms`,
      med(latency, "d", "defender-25")!.calls,
      (v) => Math.abs(v - 25) < 0.01,
      (v) => v.toFixed(2),
    );
    // DEFENDER_CONCURRENCY is 25: one wave of GETs.
    target(
      `defender-25 p50 near ⌈25/25⌉ × ${latency} ms = ${latency} ms, (d), saturated`,
      med(latency, "d", "defender-25")!.p50,
      (v) => v <= latency * 1.5 + 5,
      (v) => `${v.toFixed(1)} ms`,
    );
  }
  const table = lines.join("\n") + "\n";
  writeFileSync(join(root, "bench", "results.md"), table);
  process.stdout.write(table);
  for (const c of [sim, ...Object.values(children)]) c.proc.kill("SIGKILL");
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
