import { DefenderUsersDocument, EsetUserDocument } from "../__generated__/operations";
import { Deadline } from "../../src/upstream/deadline";
import { peakInWindow, startSimulator, type RecordedRequest, type Simulator } from "../../src/simulator/simulator";
import { gql, PrivateRedis, startReplica, uniquePrefix, type Replica } from "../helpers/replicas";
import { simulatorEnv, startStack, type Stack } from "../helpers/stack";

/**
 * The outbound rate limits under the faults of issue 13 (items 2, 3 and 8), in process and through Redis,
 * counted at the simulator: what reached the vendor, and when.
 */
const SHARED_REDIS = "redis://127.0.0.1:6379";
const ESET_USER = `query($uuid: ID!) { esetUser(uuid: $uuid) { uuid } }`;

let stack: Stack | undefined;
let sim: Simulator | undefined;
let replicas: Replica[] = [];
let privateRedis: PrivateRedis | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
  await Promise.all(replicas.map((r) => r.stop()));
  replicas = [];
  privateRedis?.resume();
  await privateRedis?.kill();
  privateRedis = undefined;
  await sim?.close();
  sim = undefined;
});

const esetCalls = (s: Simulator): RecordedRequest[] =>
  s.requests.filter((r) => r.source === "ESET" && r.kind === "api").sort((a, b) => a.at - b.at);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

describe("after a 429's Retry-After pause", () => {
  it.each([
    ["in process", false],
    ["through Redis", true],
  ])(
    "the backlog resumes at the limiter's pace, not all at once, and every queued call completes (%s)",
    async (_, shared) => {
      stack = await startStack(
        {
          ESET_RATE_LIMITS: "10/1s",
          REQUEST_DEADLINE_MS: "20000",
          UPSTREAM_MAX_RETRIES: "3",
          ...(shared ? { REDIS_URL: SHARED_REDIS, REDIS_KEY_PREFIX: uniquePrefix() } : {}),
        },
        { latencyMs: 5, extraEsetUsers: 40 },
      );
      const uuids = [...stack.sim.esetUsers.keys()].slice(0, 40);
      // Token fetched and the window empty again before the backlog arrives.
      expect((await stack.gql(EsetUserDocument, { uuid: uuids[0]! })).body.errors).toBeUndefined();
      await sleep(1_100);
      stack.sim.reset();

      // The first call of 40 gets a 429 with Retry-After: 2; the other 39 queue behind the pause.
      stack.sim.inject({ target: "eset", kind: "status", status: 429, headers: { "retry-after": "2" }, times: 1 });
      const results = await Promise.all(uuids.map((uuid) => stack!.gql(EsetUserDocument, { uuid })));
      expect(results.map((r) => r.body.data?.esetUser?.uuid)).toEqual(uuids);

      const calls = esetCalls(stack.sim);
      const throttled = calls.filter((c) => c.status === 429);
      expect(throttled).toHaveLength(1);
      expect(calls).toHaveLength(41);
      // The pause ends 2 s after the 429; the first call after it marks the resumption (on the gateway's clock).
      const resumed = calls.filter((c) => c.at >= throttled[0]!.at + 1_900);
      const first = resumed[0]!.at;
      const burst = resumed.filter((c) => c.at < first + 250).length;
      process.stdout.write(
        `429 pause (${shared ? "Redis" : "in process"}): ${burst} calls in the first 250 ms after the pause end; ${resumed.length} after it in all\n`,
      );
      // 10 per second is one call per 100 ms: at most 3 in 250 ms (one more for timer jitter), not the window's 10.
      expect(burst).toBeLessThanOrEqual(4);
      expect(peakInWindow(calls, 1_000)).toBeLessThanOrEqual(10);
    },
    30_000,
  );
});

describe("over the quota, with the budget shared through Redis", () => {
  it("refusals come back at once with RATE_LIMITED and a Retry-After, and the fleet never exceeds the quota", async () => {
    sim = await startSimulator({ latencyMs: 5, extraEsetUsers: 200 });
    // One caller (the open endpoint's): its share of the window is the whole of it but the newcomers' reserve.
    const env = {
      ESET_RATE_LIMITS: "10/1s",
      RATE_LIMIT_CALLER_SHARE: "100",
      REQUEST_DEADLINE_MS: "5000",
      REDIS_URL: SHARED_REDIS,
      REDIS_KEY_PREFIX: uniquePrefix(),
    };
    replicas = await Promise.all([0, 1].map(() => startReplica(sim!, env)));
    const uuids = [...sim.esetUsers.keys()].slice(0, 162);
    // Tokens fetched on both, then a whole window for the budget to be whole again.
    for (const r of replicas) expect((await gql(r.url, ESET_USER, { uuid: uuids.pop() })).errors).toBeUndefined();
    await sleep(1_100);
    sim.reset();

    // 40 requests a second for 4 s, alternating replicas, each one ESET call: four times the 10/1s budget.
    const outcomes: Array<Promise<{ res: Awaited<ReturnType<typeof gql>>; uuid: string; ms: number }>> = [];
    for (const [i, uuid] of uuids.entries()) {
      const started = Date.now();
      outcomes.push(gql(replicas[i % 2]!.url, ESET_USER, { uuid }).then((res) => ({ res, uuid, ms: Date.now() - started })));
      await sleep(25);
    }
    const done = await Promise.all(outcomes);
    const served = done.filter((o) => o.res.data?.esetUser?.uuid === o.uuid);
    const refused = done.filter((o) => o.res.errors !== undefined);
    expect(served.length + refused.length).toBe(uuids.length);
    for (const o of refused) {
      expect(o.res.errors).toHaveLength(1);
      expect(o.res.errors![0]!.extensions).toMatchObject({ code: "RATE_LIMITED", source: "ESET", retryAfter: expect.any(Number) });
    }
    const refusedMs = refused.map((o) => o.ms).sort((a, b) => a - b);
    const servedMs = served.map((o) => o.ms).sort((a, b) => a - b);
    process.stdout.write(
      `over quota through Redis: ${served.length} served (median ${median(servedMs)} ms), ${refused.length} refused: median ${median(refusedMs)} ms, ${refusedMs.filter((ms) => ms >= 1_000).length} took 1 s or more, max ${refusedMs.at(-1)} ms\n`,
    );
    // The budget is used, and what cannot fit is refused at once instead of waiting out the 5 s deadline.
    expect(served.length).toBeGreaterThanOrEqual(50);
    expect(refused.length).toBeGreaterThanOrEqual(50);
    expect(median(refusedMs)).toBeLessThan(1_000);
    expect(refusedMs.filter((ms) => ms >= 1_000).length).toBeLessThanOrEqual(Math.ceil(refused.length / 10));
    expect(peakInWindow(esetCalls(sim), 1_000)).toBeLessThanOrEqual(10);
  }, 60_000);
});

describe("a Redis that stalls under load below the quota", () => {
  it("leaves no reservation behind: calls resume within a second or two of SIGCONT at normal latency", async () => {
    sim = await startSimulator({ latencyMs: 5, extraEsetUsers: 400 });
    privateRedis = await PrivateRedis.start();
    // 10/1s with calls held up to 11 s while in flight (a 10 s attempt timeout): a reservation nobody
    // releases blocks a slot for 11 s.
    // One caller (the open endpoint's) at 8 a second: RATE_LIMIT_CALLER_SHARE=100 lets it hold 9 of the 10.
    const env = {
      ESET_RATE_LIMITS: "10/1s",
      RATE_LIMIT_CALLER_SHARE: "100",
      UPSTREAM_TIMEOUT_MS: "10000",
      REDIS_URL: privateRedis.url,
      REDIS_KEY_PREFIX: uniquePrefix(),
    };
    replicas = await Promise.all([0, 1].map(() => startReplica(sim!, env)));
    const uuids = [...sim.esetUsers.keys()];
    for (const r of replicas) expect((await gql(r.url, ESET_USER, { uuid: uuids[0] })).errors).toBeUndefined();

    // Open-loop load, 8 requests a second across both replicas (under the 10/1s quota), each one ESET call.
    const sent: Array<Promise<{ started: number; ms: number; ok: boolean }>> = [];
    let n = 0;
    const load = setInterval(() => {
      const uuid = uuids[++n % uuids.length]!;
      const started = Date.now();
      sent.push(
        gql(replicas[n % 2]!.url, ESET_USER, { uuid }).then(
          (res) => ({ started, ms: Date.now() - started, ok: res.data?.esetUser?.uuid === uuid }),
          () => ({ started, ms: Date.now() - started, ok: false }),
        ),
      );
    }, 125);
    try {
      await sleep(1_500);
      privateRedis.pause();
      await sleep(5_000);
      privateRedis.resume();
      const resumedAt = Date.now();
      await sleep(5_000);
      clearInterval(load);
      const results = await Promise.all(sent);

      const after = esetCalls(sim).filter((c) => c.at >= resumedAt);
      const firstAfter = after.length > 0 ? after[0]!.at - resumedAt : Infinity;
      const startedAfter = results.filter((r) => r.started >= resumedAt + 500);
      const p50 = median(startedAfter.map((r) => r.ms));
      const callsIn = (from: number, to: number) => after.filter((c) => c.at >= resumedAt + from && c.at < resumedAt + to).length;
      process.stdout.write(
        `redis stall: first ESET call ${firstAfter} ms after SIGCONT; calls in the 5 s after: ${after.length} (${[0, 1, 2, 3, 4].map((s) => callsIn(s * 1000, s * 1000 + 1000)).join("/")} per second); p50 of requests started after resume ${p50} ms; failed ${results.filter((r) => !r.ok).length} of ${results.length}\n`,
      );
      expect(firstAfter).toBeLessThan(2_000);
      // The load (8/s) goes on from the second after resume: nothing holds the budget.
      expect(callsIn(1_000, 5_000)).toBeGreaterThanOrEqual(20);
      expect(p50).toBeLessThan(500);
      expect(startedAfter.every((r) => r.ok)).toBe(true);
      expect(peakInWindow(after, 1_000)).toBeLessThanOrEqual(10);
    } finally {
      clearInterval(load);
    }
  }, 60_000);
});

describe("DEFENDER_RATE_LIMIT_SCOPE: one Defender budget for the app, or one per endpoint family", () => {
  const extraStacks: Stack[] = [];
  afterEach(async () => {
    await Promise.all(extraStacks.splice(0).map((s) => s.close()));
  });

  /** Takes slots of the stack's Defender limiter for a path until one is refused; how many it got. */
  const grants = async (s: Stack, path: string, tries = 5): Promise<number> => {
    const limiter = s.gateway.clients.sources.get("DEFENDER")!.guards.limiter;
    let granted = 0;
    for (let i = 0; i < tries; i++) {
      try {
        (await limiter.acquire(new Deadline(300), path))();
        granted++;
      } catch (err) {
        expect(err).toMatchObject({ kind: "rate-limited", retryAfter: expect.any(Number) });
        break;
      }
    }
    return granted;
  };

  it.each([
    ["app", { users: 3, machines: 0, alerts: 0, userMachines: 0 }],
    ["endpoint", { users: 3, machines: 3, alerts: 3, userMachines: 0 }],
  ])("with %s, counts each family's calls against its own windows", async (scope, expected) => {
    stack = await startStack({ DEFENDER_RATE_LIMITS: "3/60s", DEFENDER_RATE_LIMIT_SCOPE: scope, REQUEST_DEADLINE_MS: "1000" });
    // The users family through GraphQL, counted at the simulator: 3 of 5 lookups within the budget.
    const ids = [...stack.sim.defenderUsers.keys()].slice(0, 5);
    const res = await stack.gql(DefenderUsersDocument, { ids });
    expect(res.body.data?.defenderUsers?.filter((u) => u !== null)).toHaveLength(3);
    expect(res.body.errors?.map((e) => e.extensions?.code)).toEqual(["RATE_LIMITED", "RATE_LIMITED"]);
    expect(stack.sim.count({ source: "DEFENDER", kind: "api" })).toBe(3);
    // The other families (their client calls land with issue 14), at the limiter the sender uses.
    const counted = {
      users: 3,
      machines: await grants(stack, "/api/machines?$top=10000"),
      alerts: await grants(stack, "/api/alerts?$filter=lastUpdateTime%20ge%202026-01-01T00:00:00Z"),
      // A user's machines is a users call: its path says so.
      userMachines: await grants(stack, "/api/users/alice/machines"),
    };
    expect(counted).toEqual(expected);
  });

  it("with endpoint and Redis, each family's budget is shared by every replica", async () => {
    const env = {
      DEFENDER_RATE_LIMITS: "3/60s",
      DEFENDER_RATE_LIMIT_SCOPE: "endpoint",
      REDIS_URL: SHARED_REDIS,
      REDIS_KEY_PREFIX: uniquePrefix(),
    };
    stack = await startStack(env);
    // The same vendor (one simulator): the budgets are named by the credentials and hosts the vendor counts.
    const other = await startStack(env, {}, () => simulatorEnv(stack!.sim));
    extraStacks.push(other);
    expect(await grants(stack, "/api/machines/abc", 2)).toBe(2);
    expect(await grants(other, "/api/machines?$top=100")).toBe(1);
    expect(await grants(other, "/api/alerts")).toBe(3);
    expect(await grants(stack, "/api/alerts/da637")).toBe(0);
    expect(await grants(stack, "/api/users/alice")).toBe(3);
  });
});
