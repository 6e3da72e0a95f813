import "reflect-metadata";
import { loadConfig } from "../src/config";
import { startGateway } from "../src/gateway";
import { simulatorEnv, startSimulator } from "../src/simulator/simulator";

/**
 * A SOC dashboard showing 50 people from both products, refreshing every 10 s for a minute, against the
 * simulator with the vendors' default rate limits. Run once with the entity cache on (60 s TTL) and once
 * with it off, and count what reached each vendor. Real time: about two minutes.
 *
 *   npm run bench:dashboard
 */
const PEOPLE = 50;
const REFRESH_MS = Number(process.env.REFRESH_MS ?? 10_000);
const DURATION_MS = Number(process.env.DURATION_MS ?? 60_000);

async function run(label: string, cacheTtlSeconds: number) {
  const sim = await startSimulator({ extraDefenderUsers: PEOPLE, extraEsetUsers: PEOPLE, latencyMs: 20 });
  const gateway = await startGateway(
    loadConfig({
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "silent",
      CACHE_TTL_SECONDS: String(cacheTtlSeconds),
      AUTH_MODE: "none",
      ...simulatorEnv(sim),
    }),
  );
  const ids = [...sim.defenderUsers.keys()].filter((id) => id.startsWith("bench\\")).slice(0, PEOPLE);
  const uuids = [...sim.esetUsers.keys()].filter((u) => u.startsWith("00000000-")).slice(0, PEOPLE);
  const query = `query Dashboard($ids: [ID!]!, $uuids: [ID!]!) {
    defenderUsers(ids: $ids) { id lastSeen isDomainAdmin }
    esetUsers(uuids: $uuids) { uuid displayName protectionStatus }
  }`;
  let refreshes = 0;
  let nullEntries = 0;
  const errorCodes = new Map<string, number>();
  const latencies: number[] = [];
  const started = Date.now();
  while (Date.now() - started < DURATION_MS) {
    const t = Date.now();
    const res = await fetch(gateway.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query, variables: { ids, uuids } }),
    });
    const body = (await res.json()) as {
      data?: { defenderUsers: unknown[]; esetUsers: unknown[] };
      errors?: Array<{ extensions?: { code?: string } }>;
    };
    latencies.push(Date.now() - t);
    refreshes++;
    nullEntries += [...(body.data?.defenderUsers ?? []), ...(body.data?.esetUsers ?? [])].filter((u) => u === null).length;
    for (const e of body.errors ?? []) errorCodes.set(e.extensions?.code ?? "?", (errorCodes.get(e.extensions?.code ?? "?") ?? 0) + 1);
    const next = started + refreshes * REFRESH_MS;
    if (next - started >= DURATION_MS) break;
    await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
  }
  const row = {
    mode: label,
    refreshes,
    defenderCalls: sim.count({ source: "DEFENDER", kind: "api" }),
    esetCalls: sim.count({ source: "ESET", kind: "api" }),
    tokenCalls: sim.count({ kind: "token" }),
    nullEntries,
    errors: Object.fromEntries(errorCodes),
    slowestRefreshMs: Math.max(...latencies),
  };
  await gateway.stop();
  await sim.close();
  return row;
}

async function main() {
  const rows = [await run("cache on (TTL 60 s)", 60), await run("cache off", 0)];
  process.stdout.write(
    `\n${PEOPLE}-person dashboard (defenderUsers ×${PEOPLE} + esetUsers ×${PEOPLE}), refresh every ${REFRESH_MS / 1000} s for ${DURATION_MS / 1000} s,\n`,
  );
  process.stdout.write(`vendor default limits (Defender 100/min + 1500/h, ESET 10/s), simulator latency 20 ms\n\n`);
  process.stdout.write(
    "| mode | refreshes | Defender calls | ESET calls | token calls | null entries | errors | slowest refresh |\n|---|---|---|---|---|---|---|---|\n",
  );
  for (const r of rows) {
    process.stdout.write(
      `| ${r.mode} | ${r.refreshes} | ${r.defenderCalls} | ${r.esetCalls} | ${r.tokenCalls} | ${r.nullEntries} | ${JSON.stringify(r.errors)} | ${r.slowestRefreshMs} ms |\n`,
    );
  }
}

void main();
