import pino from "pino";
import { RedisLink } from "../../src/store/redis-link";
import { SharedRateLimiter } from "../../src/upstream/shared-rate-limiter";
import { Deadline } from "../../src/upstream/deadline";
import { RateLimiter, type RateWindow } from "../../src/upstream/rate-limiter";
import { PrivateRedis, uniquePrefix } from "../helpers/replicas";

/**
 * The shared budget on the real Redis, with two limiters standing for two replicas (each with its own
 * in-process limiter and its own connection): what one spends, the other cannot.
 */
const links: RedisLink[] = [];
const limiters: SharedRateLimiter[] = [];
let privateRedis: PrivateRedis | undefined;

afterEach(async () => {
  for (const l of limiters.splice(0)) l.close();
  privateRedis?.resume();
  await Promise.all(links.splice(0).map((l) => l.close()));
  await privateRedis?.kill();
  privateRedis = undefined;
});

async function replicas(
  windows: RateWindow[],
  count = 2,
  holdMs = 5_000,
  url = "redis://127.0.0.1:6379",
  commandTimeoutMs = 500,
  keyPrefix = uniquePrefix(),
): Promise<SharedRateLimiter[]> {
  const out: SharedRateLimiter[] = [];
  for (let i = 0; i < count; i++) {
    const link = new RedisLink({ url, keyPrefix, commandTimeoutMs }, pino({ level: "silent" }));
    links.push(link);
    expect(await link.waitUntilReady(2_000)).toBe(true);
    out.push(new SharedRateLimiter({ local: new RateLimiter("ESET", windows, 100), link, windows, budget: "ESET:test", holdMs }));
  }
  limiters.push(...out);
  return out;
}

describe("the shared rate limiter", () => {
  it("grants a window's limit across replicas, not per replica", async () => {
    const [a, b] = await replicas([{ limit: 4, windowMs: 60_000 }]);
    const deadline = () => new Deadline(300);
    const outcomes = await Promise.allSettled([
      ...[a, a, a, a, a].map((l) => l!.acquire(deadline())),
      ...[b, b, b].map((l) => l!.acquire(deadline())),
    ]);
    const granted = outcomes.filter((o) => o.status === "fulfilled");
    expect(granted).toHaveLength(4);
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
    expect(refused).toHaveLength(4);
    for (const r of refused) expect(r.reason).toMatchObject({ kind: "rate-limited", retryAfter: expect.any(Number) });
    for (const g of granted) (g as PromiseFulfilledResult<(sent?: boolean) => void>).value();
  });

  it("keeps the sharing rules fleet-wide: a caller's cap, and the reserve for newcomers, a ration each", async () => {
    // 20 a minute: a caller's cap 12, the reserve 2, a newcomer's ration 1; long enough that nothing ages out.
    const [a, b] = await replicas([{ limit: 20, windowMs: 60_000 }]);
    const as = (caller: string) => Object.assign(new Deadline(300), { caller });
    const take = async (limiter: SharedRateLimiter, caller: string, n: number): Promise<number> => {
      let got = 0;
      for (let i = 0; i < n; i++) {
        try {
          (await limiter.acquire(as(caller)))();
          got++;
        } catch (err) {
          expect(err).toMatchObject({ kind: "rate-limited" });
          break;
        }
      }
      return got;
    };
    // A through both replicas: 12 in all, not 12 each.
    expect((await take(a!, "key:a", 8)) + (await take(b!, "key:a", 8))).toBe(12);
    // B gets the rest but the reserve; C and D (newcomers) a ration each; then the window is full.
    expect(await take(b!, "key:b", 20)).toBe(6);
    expect(await take(a!, "key:c", 5)).toBe(1);
    expect(await take(b!, "key:d", 5)).toBe(1);
    expect(await take(a!, "key:e", 5)).toBe(0);
  });

  it("counts a call in flight until it finishes, then for a whole window from then", async () => {
    const [a, b] = await replicas([{ limit: 1, windowMs: 300 }]);
    const started = Date.now();
    const release = await a!.acquire(new Deadline(5_000));
    setTimeout(() => release(), 400); // the call takes 400 ms, longer than the window
    await b!.acquire(new Deadline(5_000));
    // Not at 300 ms (a window after the send), but a window after the call finished.
    expect(Date.now() - started).toBeGreaterThanOrEqual(690);
  });

  it("gives back a slot that was never used", async () => {
    const [a, b] = await replicas([{ limit: 1, windowMs: 60_000 }]);
    const release = await a!.acquire(new Deadline(1_000));
    release(false);
    // The give-back goes to Redis without a wait; a PING on the same connection answers after it landed
    // (one connection runs its commands in order), so B does not race it on a loaded machine.
    await links[links.length - 2]!.client.ping();
    await expect(b!.acquire(new Deadline(500))).resolves.toBeInstanceOf(Function);
  });

  it("shares a 429's pause: every replica holds back", async () => {
    const [a, b] = await replicas([{ limit: 100, windowMs: 1_000 }]);
    a!.pauseFor(500);
    await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    await b!.acquire(new Deadline(5_000));
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it("falls back to the in-process limit when Redis is unreachable", async () => {
    const link = new RedisLink({ url: "redis://127.0.0.1:1", keyPrefix: uniquePrefix(), commandTimeoutMs: 200 }, pino({ level: "silent" }));
    links.push(link);
    const windows = [{ limit: 2, windowMs: 60_000 }];
    const limiter = new SharedRateLimiter({
      local: new RateLimiter("ESET", windows, 100),
      link,
      windows,
      budget: "ESET:test",
      holdMs: 1_000,
    });
    const outcomes = await Promise.allSettled([1, 2, 3].map(() => limiter.acquire(new Deadline(200))));
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "rejected"]);
  });

  describe("when Redis is lost (kill -9) and comes back empty", () => {
    const until = async (what: () => boolean, ms: number) => {
      const end = Date.now() + ms;
      while (!what()) {
        if (Date.now() > end) throw new Error("condition not reached");
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    /** One call for each of many callers (no caller's cap in the way) until one is refused: how many went. */
    const fill = async (limiter: SharedRateLimiter, tag: string): Promise<number> => {
      for (let i = 0; i < 100; i++) {
        try {
          (await limiter.acquire(Object.assign(new Deadline(300), { caller: `${tag}:${i}` })))();
        } catch (err) {
          expect(err).toMatchObject({ kind: "rate-limited" });
          return i;
        }
      }
      return 100;
    };

    it("each replica takes its part while Redis is away, and re-seeds it when Redis is back empty", async () => {
      privateRedis = await PrivateRedis.start();
      // 20 a minute: nothing ages out during the test, so every count is exact.
      const windows = [{ limit: 20, windowMs: 60_000 }];
      const [a, b] = await replicas(windows, 2, 5_000, privateRedis.url);
      // Both registered in the membership (every second), and the 4 calls in a snapshot of the window.
      await until(() => links.every((l) => l.fleetSize === 2), 3_000);
      for (let i = 0; i < 4; i++) (await a!.acquire(Object.assign(new Deadline(300), { caller: `early:${i}` })))();
      await new Promise((r) => setTimeout(r, 1_300));

      await privateRedis.kill();
      await until(() => links.every((l) => !l.available), 3_000);
      // Each takes its part: half of the 16 left. Before, each fell back to a whole limit of its own: 16 + 20.
      const away = [await fill(a!, "a"), await fill(b!, "b")];
      process.stdout.write(`redis away: the replicas took ${away.join(" + ")} of the ${windows[0]!.limit - 4} left\n`);
      expect(away).toEqual([8, 8]);

      await privateRedis.start();
      await until(() => links.every((l) => l.available), 5_000);
      await new Promise((r) => setTimeout(r, 200));
      // A replica that joins now finds the window full: the others put back what they spent. Before: all 20.
      const [c] = await replicas(windows, 1, 5_000, privateRedis.url, 500, links[0]!.prefix);
      expect(await fill(c!, "c")).toBe(0);
    }, 30_000);
  });

  describe("on a Redis that stalls (SIGSTOP, then SIGCONT)", () => {
    const until = async (what: () => boolean, ms: number) => {
      const end = Date.now() + ms;
      while (!what()) {
        if (Date.now() > end) throw new Error("condition not reached");
        await new Promise((r) => setTimeout(r, 10));
      }
    };

    it("makes no reservation for a caller that gave up: scripts that ran on resume leave the budget whole", async () => {
      privateRedis = await PrivateRedis.start();
      const windows = [{ limit: 4, windowMs: 1_000 }];
      // Slots held up to 10 s while in flight: a reservation nobody releases blocks the budget that long.
      const [a, b] = await replicas(windows, 2, 10_000, privateRedis.url);
      await new Promise((r) => setTimeout(r, 300)); // a heartbeat or two: each link knows Redis's clock
      privateRedis.pause();
      // Four calls ask Redis, which does not answer: each goes on in process after its command timeout.
      const during = await Promise.all([1, 2, 3, 4].map(() => a!.acquire(new Deadline(5_000))));
      for (const release of during) release();
      await until(() => !links[0]!.available, 3_000);
      privateRedis.resume();
      await until(() => links.every((l) => l.available), 3_000);
      // The four calls A made in process during the stall count (A put them back), for a window; a reservation
      // left by a stale script would hold its slot for 10 s: ask once A's calls are well out of the window.
      await new Promise((r) => setTimeout(r, 2_000));
      // The four scripts ran on resume, after their callers gave up: the other replica finds the budget whole.
      const after = await Promise.allSettled([1, 2, 3, 4].map(() => b!.acquire(new Deadline(2_000))));
      process.stdout.write(`after a stall: ${after.filter((o) => o.status === "fulfilled").length} of 4 calls granted at once\n`);
      expect(after.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "fulfilled"]);
    }, 20_000);

    it("stops waiting on Redis once the stall is noticed, instead of each call paying its command timeout", async () => {
      privateRedis = await PrivateRedis.start();
      const windows = [{ limit: 100, windowMs: 1_000 }];
      // A 5 s command timeout: a call that waited it out would take 5 s.
      const [a] = await replicas(windows, 1, 5_000, privateRedis.url, 5_000);
      privateRedis.pause();
      const started = Date.now();
      const took = await Promise.all(
        [1, 2, 3].map(async () => {
          (await a!.acquire(new Deadline(10_000)))();
          return Date.now() - started;
        }),
      );
      // Noticed within about a second (the link's heartbeat), then each went on in process.
      expect(links[0]!.available).toBe(false);
      const afterwards = Date.now();
      (await a!.acquire(new Deadline(10_000)))();
      const tookAfter = Date.now() - afterwards;
      process.stdout.write(
        `stalled Redis: calls in flight went on in process after ${took.join("/")} ms; a call once noticed ${tookAfter} ms\n`,
      );
      for (const ms of took) expect(ms).toBeLessThan(2_500);
      expect(tookAfter).toBeLessThan(2_500);
    }, 20_000);
  });
});
