import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import autocannon from "autocannon";
import { startChild as start } from "./children";

/**
 * `npm run bench:soak`: usergraph (cache on, default bounds) under a steady rate for SOAK_MINUTES (10),
 * each request asking 10 Defender users never asked before — a million distinct ids over ten minutes — and
 * its RSS sampled every 30 s. The cache is bounded, so RSS must level off rather than grow with the ids.
 */
const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const RATE = Number(process.env.SOAK_RATE ?? 170);
const IDS_PER_REQUEST = 10;

const rssMb = (pid: number | undefined) =>
  Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024);

async function main(): Promise<void> {
  const sim = await start("simulator", { BENCH_USERS: "0", SYNTHESIZE: "1" });
  const ug = await start("usergraph", {
    SIM_URL: sim.info.url!,
    DEFENDER_TOKEN_URL: sim.info.defenderTokenUrl!,
    ESET_TOKEN_URL: sim.info.esetTokenUrl!,
    CACHE_TTL_SECONDS: "3600",
  });
  const samples: Array<{ minute: number; rssMb: number }> = [];
  const started = Date.now();
  const sample = () => samples.push({ minute: (Date.now() - started) / 60_000, rssMb: rssMb(ug.proc.pid) });
  sample();
  const timer = setInterval(sample, 30_000);
  let n = 0;
  const query = "query Soak($ids: [ID!]!) { defenderUsers(ids: $ids) { id accountName logonTypes lastSeen } }";
  const result = await autocannon({
    url: ug.info.url!,
    connections: 20,
    overallRate: RATE,
    duration: MINUTES * 60,
    requests: [
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        setupRequest: (req) => {
          const ids = Array.from({ length: IDS_PER_REQUEST }, () => `bench\\user${n++}`);
          return { ...req, body: JSON.stringify({ query, variables: { ids } }) };
        },
      },
    ],
  });
  clearInterval(timer);
  sample();
  const metrics = await (await fetch(ug.info.url!.replace("/graphql", "/metrics"))).text();
  const entries = /usergraph_cache_entries (\d+)/.exec(metrics)?.[1];
  const bytes = /usergraph_cache_bytes (\d+)/.exec(metrics)?.[1];
  const lines = [
    `# usergraph soak`,
    "",
    `${MINUTES} min at ${RATE} req/s, ${IDS_PER_REQUEST} never-seen Defender ids per request: ${n.toLocaleString("en")} distinct ids, ${result["2xx"]} 2xx, ${result.non2xx + result.errors + result.timeouts} failures, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms.`,
    `Cache at the end: ${entries} entries, ${bytes} bytes (bounds: CACHE_MAX_ENTRIES 50000, CACHE_MAX_MB 64).`,
    "",
    "| minute | usergraph RSS (MiB) |",
    "|---|---|",
    ...samples.map((s) => `| ${s.minute.toFixed(1)} | ${s.rssMb} |`),
    "",
  ];
  const text = lines.join("\n");
  writeFileSync(join(__dirname, "..", "..", "bench", "soak-results.md"), text);
  process.stdout.write(text);
  ug.proc.kill("SIGKILL");
  sim.proc.kill("SIGKILL");
}

void main();
