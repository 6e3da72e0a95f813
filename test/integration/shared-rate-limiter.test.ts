import pino from "pino";
import { RedisLink } from "../../src/store/redis-link";
import { SharedRateLimiter } from "../../src/upstream/shared-rate-limiter";
import { Deadline } from "../../src/upstream/deadline";
import { RateLimiter, type RateWindow } from "../../src/upstream/rate-limiter";
import { uniquePrefix } from "../helpers/replicas";

/**
 * The shared budget on the real Redis, with two limiters standing for two replicas (each with its own
 * in-process limiter and its own connection): what one spends, the other cannot.
 */
const links: RedisLink[] = [];

afterEach(async () => {
  await Promise.all(links.splice(0).map((l) => l.close()));
});

async function replicas(windows: RateWindow[], count = 2, holdMs = 5_000): Promise<SharedRateLimiter[]> {
  const keyPrefix = uniquePrefix();
  const out: SharedRateLimiter[] = [];
  for (let i = 0; i < count; i++) {
    const link = new RedisLink({ url: "redis://127.0.0.1:6379", keyPrefix, commandTimeoutMs: 500 }, pino({ level: "silent" }));
    links.push(link);
    expect(await link.waitUntilReady(2_000)).toBe(true);
    out.push(new SharedRateLimiter({ local: new RateLimiter("ESET", windows, 100), link, windows, budget: "ESET:test", holdMs }));
  }
  return out;
}

describe("the shared rate limiter", () => {
  it("grants a window's limit across replicas, not per replica", async () => {
    const [a, b] = await replicas([{ limit: 4, windowMs: 60_000 }]);
    const deadline = () => new Deadline(300);
    const outcomes = await Promise.allSettled([...[a, a, a, a, a].map((l) => l!.acquire(deadline())), ...[b, b, b].map((l) => l!.acquire(deadline()))]);
    const granted = outcomes.filter((o) => o.status === "fulfilled");
    expect(granted).toHaveLength(4);
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
    expect(refused).toHaveLength(4);
    for (const r of refused) expect(r.reason).toMatchObject({ kind: "rate-limited", retryAfter: expect.any(Number) });
    for (const g of granted) (g as PromiseFulfilledResult<(sent?: boolean) => void>).value();
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
    const limiter = new SharedRateLimiter({ local: new RateLimiter("ESET", windows, 100), link, windows, budget: "ESET:test", holdMs: 1_000 });
    const outcomes = await Promise.allSettled([1, 2, 3].map(() => limiter.acquire(new Deadline(200))));
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "rejected"]);
  });
});
