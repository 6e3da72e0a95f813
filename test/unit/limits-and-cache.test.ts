import { EntityCache } from "../../src/store/entity-cache";
import { EntityStore } from "../../src/store/entity-store";
import { CircuitBreaker } from "../../src/upstream/circuit-breaker";
import { Deadline } from "../../src/upstream/deadline";
import { parseRateWindows, RateLimiter } from "../../src/upstream/rate-limiter";
import { UpstreamError } from "../../src/upstream/upstream-error";
import { defenderEndpointFamily } from "../../src/sources/defender/endpoint-family";

describe("RateLimiter", () => {
  it("lets calls through in arrival order, each slot counted from when its call finished", async () => {
    const limiter = new RateLimiter("ESET", [{ limit: 2, windowMs: 200 }], 10);
    const order: number[] = [];
    const started = Date.now();
    const times: number[] = [];
    await Promise.all(
      [0, 1, 2, 3, 4].map(async (i) => {
        const release = await limiter.acquire(new Deadline(5000));
        order.push(i);
        times.push(Date.now() - started);
        release();
      }),
    );
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(times[1]).toBeLessThan(50);
    expect(times[2]).toBeGreaterThanOrEqual(190);
    expect(times[4]).toBeGreaterThanOrEqual(390);
  });

  it("refuses at once, with the expected wait, a call that cannot get a slot before its deadline", async () => {
    const limiter = new RateLimiter("DEFENDER", [{ limit: 1, windowMs: 60_000 }], 10);
    (await limiter.acquire(new Deadline(1000)))();
    const started = Date.now();
    const err = (await limiter.acquire(new Deadline(1000)).catch((e: unknown) => e)) as UpstreamError;
    expect(Date.now() - started).toBeLessThan(50);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.kind).toBe("rate-limited");
    expect(err.retryAfter).toBe(60);
  });

  it("bounds its queue", async () => {
    const limiter = new RateLimiter("ESET", [{ limit: 1, windowMs: 1000 }], 1);
    const first = await limiter.acquire(new Deadline(5000));
    const queued = limiter.acquire(new Deadline(5000));
    await expect(limiter.acquire(new Deadline(5000))).rejects.toMatchObject({ kind: "rate-limited" });
    first();
    limiter.close();
    await expect(queued).rejects.toMatchObject({ kind: "rate-limited" });
  });

  it("holds every caller back while paused by a Retry-After", async () => {
    const limiter = new RateLimiter("ESET", [{ limit: 100, windowMs: 1000 }], 10);
    limiter.pauseFor(150);
    const started = Date.now();
    (await limiter.acquire(new Deadline(5000)))();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it("parses CALLS/DURATION lists", () => {
    expect(parseRateWindows("100/60s,1500/1h")).toEqual([
      { limit: 100, windowMs: 60_000 },
      { limit: 1500, windowMs: 3_600_000 },
    ]);
    expect(parseRateWindows("10/s")).toEqual([{ limit: 10, windowMs: 1000 }]);
    expect(parseRateWindows("off")).toEqual([]);
    expect(typeof parseRateWindows("ten per second")).toBe("string");
  });
});

describe("defenderEndpointFamily", () => {
  it("names a Defender call's family by the first segment of its path, whatever it returns", () => {
    expect(defenderEndpointFamily("/api/users/contoso%5Calice")).toBe("users");
    expect(defenderEndpointFamily("/api/users/alice/machines")).toBe("users");
    expect(defenderEndpointFamily("/api/Machines?$top=10000")).toBe("machines");
    expect(defenderEndpointFamily("/api/machines/1e5b/logonusers")).toBe("machines");
    expect(defenderEndpointFamily("/api/alerts?$filter=lastUpdateTime%20ge%202026-01-01T00:00:00Z")).toBe("alerts");
    expect(defenderEndpointFamily("/api/alerts/da637/user")).toBe("alerts");
    expect(defenderEndpointFamily("/api/usersx")).toBe("other");
    expect(defenderEndpointFamily("/api/vulnerabilities")).toBe("other");
    expect(defenderEndpointFamily("/users/alice")).toBe("other");
  });
});

describe("CircuitBreaker", () => {
  const options = { minimumRequests: 10, failureRate: 0.5, windowMs: 10_000, openMs: 1000 };
  const fail = (b: CircuitBreaker, n: number) => {
    for (let i = 0; i < n; i++) b.recordFailure(b.beforeCall());
  };

  it("judges the failure rate only past the minimum volume", () => {
    const breaker = new CircuitBreaker("DEFENDER", options);
    fail(breaker, 9);
    expect(breaker.state).toBe("closed");
    fail(breaker, 1);
    expect(breaker.state).toBe("open");
  });

  it("stays closed under a failure rate below the threshold, however many failures in a row", () => {
    const breaker = new CircuitBreaker("DEFENDER", options);
    for (let i = 0; i < 100; i++) {
      const ticket = breaker.beforeCall();
      if (i % 10 < 3) breaker.recordFailure(ticket);
      else breaker.recordSuccess(ticket);
    }
    expect(breaker.state).toBe("closed");
  });

  it("half-opens for one probe, and only the probe's result closes it", () => {
    let now = 0;
    const states: string[] = [];
    const breaker = new CircuitBreaker(
      "DEFENDER",
      options,
      (s) => states.push(s),
      () => now,
    );
    const early = breaker.beforeCall();
    fail(breaker, 10);
    expect(() => breaker.beforeCall()).toThrow(UpstreamError);
    breaker.recordSuccess(early); // a late answer from before it opened
    expect(breaker.state).toBe("open");
    now = 1000;
    const probe = breaker.beforeCall();
    expect(probe.probe).toBe(true);
    expect(() => breaker.beforeCall()).toThrow(/circuit open/);
    breaker.recordSuccess(probe);
    expect(breaker.state).toBe("closed");
    breaker.recordFailure(early); // late again, after it closed: ignored
    expect(states).toEqual(["open", "half-open", "closed"]);
  });

  it("opens again at once when the probe fails", () => {
    let now = 0;
    const breaker = new CircuitBreaker(
      "ESET",
      options,
      () => {},
      () => now,
    );
    fail(breaker, 10);
    now = 1000;
    breaker.recordFailure(breaker.beforeCall());
    expect(breaker.state).toBe("open");
    expect(() => breaker.beforeCall()).toThrow(/circuit open/);
  });
});

describe("EntityCache", () => {
  it("evicts the least recently used entry past its entry bound", () => {
    const cache = new EntityCache({ maxEntries: 2, maxBytes: 1_000_000 });
    cache.set("a", { v: 1 }, 60_000, 60_000);
    cache.set("b", { v: 2 }, 60_000, 60_000);
    cache.get("a");
    cache.set("c", { v: 3 }, 60_000, 60_000);
    expect([cache.get("a") !== undefined, cache.get("b") !== undefined, cache.get("c") !== undefined]).toEqual([true, false, true]);
  });

  it("stays under its byte bound", () => {
    const cache = new EntityCache({ maxEntries: 1_000_000, maxBytes: 50_000 });
    for (let i = 0; i < 1000; i++) cache.set(`user-${i}`, { displayName: "x".repeat(200) }, 60_000, 60_000);
    expect(cache.bytes).toBeLessThanOrEqual(50_000);
    expect(cache.entries).toBeGreaterThan(10);
    expect(cache.entries).toBeLessThan(1000);
  });
});

describe("EntityStore", () => {
  it("never lets two credential identities read each other's entries from one cache", async () => {
    const cache = new EntityCache({ maxEntries: 100, maxBytes: 1_000_000 });
    const calls: string[] = [];
    const store = (prefix: string) =>
      new EntityStore<{ who: string }>({
        source: "ESET",
        keyPrefix: prefix,
        cache,
        freshMs: 60_000,
        negativeMs: 0,
        staleIfErrorMs: 0,
        fetchMany: async (keys) => {
          calls.push(`${prefix}${keys.join()}`);
          return new Map(keys.map((k) => [k, { who: prefix }]));
        },
      });
    const tenantA = store("ESET:aaaa:");
    const tenantB = store("ESET:bbbb:");
    expect(await tenantA.loadMany(["u1"], new Deadline(1000), () => {})).toEqual([{ who: "ESET:aaaa:" }]);
    expect(await tenantB.loadMany(["u1"], new Deadline(1000), () => {})).toEqual([{ who: "ESET:bbbb:" }]);
    expect(await tenantA.loadMany(["u1"], new Deadline(1000), () => {})).toEqual([{ who: "ESET:aaaa:" }]);
    expect(calls).toEqual(["ESET:aaaa:u1", "ESET:bbbb:u1"]);
  });
});
