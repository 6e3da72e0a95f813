import { peakInWindow, startSimulator, type Simulator } from "../../src/simulator/simulator";
import { PrivateRedis, startReplica, uniquePrefix, type Replica } from "../helpers/replicas";

/**
 * Issue 18, item 9: when the shared Redis goes away (kill -9) and comes back empty, the fleet must stay
 * within the vendor's limit. Two replicas, Defender load at three times the quota from three API keys,
 * windows scaled down (40 calls per 4 s) so a test lasts seconds; every call counted at the simulator.
 */

const KEYS = ["restart-caller-key-a-4b7e1d9c2f5a", "restart-caller-key-b-8d3a6f0e1c7b", "restart-caller-key-c-2e9f5b8d4a1c"];
const LIMIT = 40;
const WINDOW_MS = 4_000;

let sim: Simulator | undefined;
let replicas: Replica[] = [];
let redis: PrivateRedis | undefined;

afterEach(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  replicas = [];
  await redis?.kill();
  redis = undefined;
  await sim?.close();
  sim = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function lookup(url: string, key: string, id: string): Promise<string> {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": key },
      body: JSON.stringify({ query: "query($ids: [ID!]!) { defenderUsers(ids: $ids) { id } }", variables: { ids: [id] } }),
    });
    const body = (await res.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
    return body.errors?.[0]?.extensions?.code ?? "answered";
  } catch {
    return "no answer";
  }
}

/**
 * Open-loop load of one unknown id per request (one Defender call each), 30 requests a second round robin
 * over the replicas and keys, for `ms`; `during` runs meanwhile. What each request came to.
 */
async function underLoad(ms: number, during: () => Promise<void>): Promise<string[]> {
  const outcomes: Array<Promise<string>> = [];
  let n = 0;
  const timer = setInterval(() => {
    n++;
    outcomes.push(lookup(replicas[n % 2]!.url, KEYS[n % 3]!, `nobody-restart-${n}`));
  }, 1000 / 30);
  try {
    await Promise.all([during(), sleep(ms)]);
  } finally {
    clearInterval(timer);
  }
  return Promise.all(outcomes);
}

async function start(): Promise<void> {
  sim = await startSimulator({ latencyMs: 5 });
  redis = await PrivateRedis.start();
  const env = {
    AUTH_MODE: "",
    AUTH_API_KEYS: KEYS.join(","),
    DEFENDER_RATE_LIMITS: `${LIMIT}/${WINDOW_MS}ms`,
    REQUEST_DEADLINE_MS: "2000",
    UPSTREAM_TIMEOUT_MS: "2000",
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: uniquePrefix(),
  };
  replicas = await Promise.all([0, 1].map(() => startReplica(sim!, env)));
  // Tokens fetched and both replicas registered in the membership; then a whole window for the budget.
  for (const [i, r] of replicas.entries()) expect(await lookup(r.url, KEYS[i]!, "warm-up")).toBe("answered");
  await sleep(WINDOW_MS + 200);
  sim.reset();
}

const defenderCalls = () => sim!.requests.filter((r) => r.source === "DEFENDER" && r.kind === "api");

describe("Redis restarted empty under load above the quota", () => {
  it.each([
    ["a 0.3 s outage", 300],
    ["a 3 s outage (most of a window)", 3_000],
  ])(
    "%s: the vendor never sees more than the limit in any window",
    async (_, downMs) => {
      await start();
      const outcomes = await underLoad(4 * WINDOW_MS, async () => {
        await sleep(1.5 * WINDOW_MS);
        await redis!.kill();
        await sleep(downMs);
        await redis!.start();
      });
      const calls = defenderCalls();
      const peak = peakInWindow(calls, WINDOW_MS);
      const count = (what: string) => outcomes.filter((o) => o === what).length;
      process.stdout.write(
        `redis restarted empty after ${downMs} ms: ${calls.length} Defender calls in ${outcomes.length} requests, peak ${peak} per ${WINDOW_MS} ms window (limit ${LIMIT}); answered ${count("answered")}, RATE_LIMITED ${count("RATE_LIMITED")}, other ${JSON.stringify(outcomes.filter((o) => o !== "answered" && o !== "RATE_LIMITED"))}\n`,
      );
      expect(peak).toBeLessThanOrEqual(LIMIT);
      // The budget is still used (not everything refused) and every request is answered one way or the other:
      // data, RATE_LIMITED, or (a few, granted a slot just before their 2 s deadline after the rejoin) the
      // deadline's UPSTREAM_TIMEOUT; never a cut connection or an internal error.
      expect(calls.length).toBeGreaterThanOrEqual(LIMIT);
      expect(outcomes.every((o) => o === "answered" || o === "RATE_LIMITED" || o === "UPSTREAM_TIMEOUT")).toBe(true);
      expect(outcomes.filter((o) => o === "UPSTREAM_TIMEOUT").length).toBeLessThanOrEqual(outcomes.length / 50);
    },
    60_000,
  );
});
