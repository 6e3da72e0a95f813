import { EntityStore, type Outcome } from "../../src/store/entity-store";
import { Deadline } from "../../src/upstream/deadline";
import { RateLimiter } from "../../src/upstream/rate-limiter";
import { UpstreamError } from "../../src/upstream/upstream-error";

/** The rules of a request's lifetime (Deadline), and how the limiter queue and single flight follow them. */
const aborted = (d: Deadline) => d.signal.aborted;

describe("a request's lifetime", () => {
  it("ends when the request ends: its signal aborts, no time is left, and a wait returns at once", async () => {
    const d = new Deadline(60_000);
    const started = Date.now();
    const waiting = d.wait(30_000);
    d.end();
    await waiting;
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(aborted(d)).toBe(true);
    expect(d.remaining()).toBe(0);
    expect(() => d.assertTimeLeft("ESET")).toThrow(expect.objectContaining({ kind: "timeout", message: expect.stringMatching(/ended/) }));
  });

  it("ends at the deadline, counted from when the request arrived", async () => {
    const d = new Deadline(1_000, Date.now() - 950);
    await new Promise((resolve) => d.signal.addEventListener("abort", resolve));
    expect(d.expired()).toBe(true);
    await expect(d.race(new Promise(() => {}), "DEFENDER")).rejects.toMatchObject({ kind: "timeout", source: "DEFENDER" });
  });

  it("ends no earlier than its deadline when the deadline is further off than one timer step", async () => {
    const started = Date.now();
    const d = new Deadline(260, started);
    await new Promise((resolve) => d.signal.addEventListener("abort", resolve));
    expect(Date.now() - started).toBeGreaterThanOrEqual(259);
    expect(d.expired()).toBe(true);
  });

  it("calls every listener once when it ends, even after one of them throws", () => {
    const d = new Deadline(60_000);
    const calls: string[] = [];
    d.signal.addEventListener("abort", () => calls.push("first"));
    d.signal.addEventListener("abort", () => {
      throw new Error("a listener's own bug");
    });
    const removed = () => calls.push("removed");
    d.signal.addEventListener("abort", removed);
    d.signal.removeEventListener("abort", removed);
    d.signal.addEventListener("abort", () => calls.push("last"));
    expect(() => d.end()).toThrow("a listener's own bug");
    d.end();
    expect(calls).toEqual(["first", "last"]);
  });

  it("goes on after its request ended while another request waits on its work, and stops when that one leaves", () => {
    const owner = new Deadline(60_000);
    const joiner = new Deadline(60_000);
    owner.keepAliveFor(joiner);
    owner.end();
    expect(aborted(owner)).toBe(false);
    expect(owner.remaining()).toBeGreaterThan(0);
    joiner.end();
    expect(aborted(owner)).toBe(true);
  });

  it("stops once the waiting request no longer needs the work", () => {
    const owner = new Deadline(60_000);
    const release = owner.keepAliveFor(new Deadline(60_000));
    owner.end();
    expect(aborted(owner)).toBe(false);
    release();
    expect(aborted(owner)).toBe(true);
  });

  it("does not cut detached work short (a token request every caller shares), which still counts as the request's spend", () => {
    const d = new Deadline(60_000);
    const detached = d.detached();
    d.end();
    expect(aborted(detached)).toBe(false);
    detached.usage.upstreamCalls++;
    expect(d.usage.upstreamCalls).toBe(1);
  });
});

describe("the rate limiter's queue", () => {
  it("lets a queued call leave as soon as its request ends, and serves the next one", async () => {
    const limiter = new RateLimiter("DEFENDER", [{ limit: 1, windowMs: 300 }], 10);
    (await limiter.acquire(new Deadline(5_000)))();
    const gone = new Deadline(5_000);
    const left = limiter.acquire(gone);
    const next = limiter.acquire(new Deadline(5_000));
    expect(limiter.queueDepth).toBe(2);
    gone.end();
    await expect(left).rejects.toBeInstanceOf(UpstreamError);
    expect(limiter.queueDepth).toBe(1);
    (await next)();
    expect(limiter.queueDepth).toBe(0);
  });
});

describe("single flight across requests", () => {
  /** A store whose fetch answers after `ms`, or fails as soon as its deadline's lifetime ends. */
  function store(ms: number) {
    const fetches: Deadline[] = [];
    const s = new EntityStore<string>({
      source: "ESET",
      keyPrefix: "t:",
      freshMs: 0,
      negativeMs: 0,
      staleIfErrorMs: 0,
      fetchMany: (keys, deadline) => {
        fetches.push(deadline);
        return new Promise<Map<string, Outcome<string>>>((resolve) => {
          const timer = setTimeout(() => resolve(new Map(keys.map((k) => [k, `v-${k}`]))), ms);
          deadline.signal.addEventListener("abort", () => {
            clearTimeout(timer);
            resolve(new Map(keys.map((k) => [k, deadline.lapsed("ESET")])));
          });
        });
      },
    });
    return { store: s, fetches };
  }
  const noStale = () => {};

  it("finishes a fetch for the request that joined it after the request that started it answered", async () => {
    const { store: s, fetches } = store(200);
    const owner = new Deadline(10_000);
    const joiner = new Deadline(10_000);
    const first = s.loadMany(["a"], owner, noStale);
    const second = s.loadMany(["a"], joiner, noStale);
    owner.end();
    // The vendor's answer, not the owner's end: the fetch went on while the joiner waited.
    expect(await second).toEqual(["v-a"]);
    expect(fetches).toHaveLength(1);
    await first;
  });

  it("lets a joiner leave at its own end, and stops the fetch once every waiter is gone", async () => {
    const { store: s, fetches } = store(30_000);
    const owner = new Deadline(60_000);
    const joiner = new Deadline(60_000);
    const first = s.loadMany(["a"], owner, noStale);
    const second = s.loadMany(["a"], joiner, noStale);
    owner.end();
    joiner.end();
    const [joined] = await second;
    expect(joined).toMatchObject({ kind: "timeout" });
    expect(aborted(fetches[0]!)).toBe(true);
    expect((await first)[0]).toMatchObject({ kind: "timeout" });
  });

  it("does not join a fetch nobody waits for any more: a newcomer fetches for itself", async () => {
    const { store: s, fetches } = store(30_000);
    const owner = new Deadline(60_000);
    const first = s.loadMany(["a"], owner, noStale);
    owner.end();
    const later = s.loadMany(["a"], new Deadline(60_000), noStale);
    expect(fetches).toHaveLength(2);
    await first;
    fetches[1]!.end();
    expect((await later)[0]).toMatchObject({ kind: "timeout" });
  });
});
