import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { peakInWindow, simulatorEnv, startSimulator, type Simulator } from "../src/simulator/simulator";

/**
 * Three usergraph replicas behind a round-robin balancer (this script alternates between them), one
 * simulator standing in for both vendors (in this process, so every arrival is timestamped), the vendors'
 * default limits (Defender 100/60 s + 1500/h, ESET 10/s). Each burst runs twice: replicas on one Redis,
 * and replicas on their own. Reports what reached the vendors: calls, and the most calls in any window of
 * the vendor's own length, against its limit. Real time: about two minutes.
 *
 *   npm run bench:replicas      (starts the local Redis if needed, as the tests do)
 */
const REPLICAS = 3;
const root = join(__dirname, "..", "..");
const main = join(__dirname, "..", "src", "main.js");

interface Replica {
  url: string;
  proc: ChildProcess;
}

async function startReplica(sim: Simulator, env: Record<string, string>): Promise<Replica> {
  const proc = spawn(process.execPath, [main], {
    env: {
      PATH: process.env.PATH ?? "",
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      AUTH_MODE: "none",
      // Bursts of hundreds of requests from one address on purpose: this bench counts vendor calls.
      CALLER_RATE_LIMIT: "off",
      CACHE_TTL_SECONDS: "60",
      ...simulatorEnv(sim),
      ...env,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /serving .* at (http:\/\/\S+\/graphql)/.exec(out);
      if (m) {
        proc.stdout!.removeAllListeners("data");
        proc.stdout!.resume();
        resolve({ url: m[1]!, proc });
      }
    });
    proc.on("exit", (code) => reject(new Error(`replica exited with ${code}: ${out}`)));
  });
}

async function stopReplica(r: Replica): Promise<void> {
  const exited = new Promise((resolve) => r.proc.once("exit", resolve));
  r.proc.kill("SIGTERM");
  await exited;
}

interface Burst {
  name: string;
  /** The requests, as [query, variables]; sent all at once, round-robin over the replicas. */
  requests: (sim: Simulator) => Array<[string, Record<string, unknown>]>;
}

const DASHBOARD = `query Dashboard($ids: [ID!]!, $uuids: [ID!]!) {
  defenderUsers(ids: $ids) { id lastSeen } esetUsers(uuids: $uuids) { uuid protectionStatus } }`;

const bursts: Burst[] = [
  {
    name: "same 50-person dashboard, 150 requests at once",
    requests: (sim) => {
      const ids = [...sim.defenderUsers.keys()].filter((id) => id.startsWith("bench\\")).slice(0, 50);
      const uuids = [...sim.esetUsers.keys()].filter((u) => u.startsWith("00000000-")).slice(0, 50);
      return Array.from({ length: 150 }, () => [DASHBOARD, { ids, uuids }]);
    },
  },
  {
    name: "300 different Defender users + 90 different ESET users, one per request, at once",
    requests: (sim) => [
      ...[...sim.defenderUsers.keys()]
        .filter((id) => id.startsWith("bench\\"))
        .slice(0, 300)
        .map((id): [string, Record<string, unknown>] => [`query($id: ID!) { defenderUser(id: $id) { id } }`, { id }]),
      ...[...sim.esetUsers.keys()]
        .filter((u) => u.startsWith("00000000-"))
        .slice(0, 90)
        .map((uuid): [string, Record<string, unknown>] => [`query($uuid: ID!) { esetUser(uuid: $uuid) { uuid } }`, { uuid }]),
    ],
  },
];

interface Row {
  burst: string;
  mode: string;
  requests: number;
  defenderCalls: number;
  defenderPeak60s: number;
  esetCalls: number;
  esetPeak1s: number;
  errors: string;
  seconds: number;
}

async function run(burst: Burst, withRedis: boolean): Promise<Row> {
  const sim = await startSimulator({ extraDefenderUsers: 300, extraEsetUsers: 100, latencyMs: 20 });
  const env: Record<string, string> = withRedis
    ? { REDIS_URL: "redis://127.0.0.1:6379", REDIS_KEY_PREFIX: `ugbench:${randomBytes(4).toString("hex")}:` }
    : {};
  const replicas = await Promise.all(Array.from({ length: REPLICAS }, () => startReplica(sim, env)));
  const requests = burst.requests(sim);
  sim.requests.length = 0;
  const started = Date.now();
  const answers = await Promise.all(
    requests.map(async ([query, variables], i) => {
      const res = await fetch(replicas[i % REPLICAS]!.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  const codes = new Map<string, number>();
  for (const a of answers)
    for (const e of a.errors ?? []) codes.set(e.extensions?.code ?? "?", (codes.get(e.extensions?.code ?? "?") ?? 0) + 1);
  const api = sim.requests.filter((r) => r.kind === "api");
  const defender = api.filter((r) => r.source === "DEFENDER");
  const eset = api.filter((r) => r.source === "ESET");
  await Promise.all(replicas.map(stopReplica));
  await sim.close();
  return {
    burst: burst.name,
    mode: withRedis ? `${REPLICAS} replicas, one Redis` : `${REPLICAS} replicas, no Redis`,
    requests: requests.length,
    defenderCalls: defender.length,
    defenderPeak60s: peakInWindow(defender, 60_000),
    esetCalls: eset.length,
    esetPeak1s: peakInWindow(eset, 1_000),
    errors: codes.size === 0 ? "none" : [...codes].map(([c, n]) => `${n} × ${c}`).join(", "),
    seconds,
  };
}

async function mainBench(): Promise<void> {
  execFileSync("bash", [join(root, "scripts", "ensure-redis.sh")], { stdio: "inherit" });
  const rows: Row[] = [];
  for (const burst of bursts) {
    for (const withRedis of [true, false]) {
      const row = await run(burst, withRedis);
      rows.push(row);
      process.stdout.write(`${JSON.stringify(row)}\n`);
    }
  }
  const lines = [
    "# Three replicas, with and without Redis",
    "",
    `Generated by \`npm run bench:replicas\` on ${new Date().toISOString().slice(0, 10)}: ${REPLICAS} usergraph processes, round-robin, one simulator`,
    "(20 ms per call), the vendors' default limits (Defender 100 calls/60 s + 1500/h, ESET 10/s), cache TTL 60 s, request",
    "deadline 20 s. Peaks are the most calls the simulator saw arrive in any window of the vendor's length.",
    "",
    "| burst | mode | requests | Defender calls | Defender peak / 60 s (limit 100) | ESET calls | ESET peak / 1 s (limit 10) | errors | wall s |",
    "|---|---|---:|---:|---:|---:|---:|---|---:|",
    ...rows.map(
      (r) =>
        `| ${r.burst} | ${r.mode} | ${r.requests} | ${r.defenderCalls} | ${r.defenderPeak60s} | ${r.esetCalls} | ${r.esetPeak1s} | ${r.errors} | ${r.seconds.toFixed(1)} |`,
    ),
    "",
  ];
  writeFileSync(join(root, "bench", "replicas-results.md"), lines.join("\n"));
  process.stdout.write(`\n${lines.join("\n")}`);
}

void mainBench();
