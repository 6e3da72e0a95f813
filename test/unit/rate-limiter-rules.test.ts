import { Deadline } from "../../src/upstream/deadline";
import { RateLimiter, sharesOf, type RateWindow, type Release } from "../../src/upstream/rate-limiter";
import { UpstreamError } from "../../src/upstream/upstream-error";

/**
 * The outbound limiter's sharing rules on an injected clock: every call asks with no time to wait, so it is
 * granted at once or refused at once with the wait the limiter expects (`retryAfter`), and nothing here
 * depends on real time. The end-to-end tests (hostile.quota, rate-limit-faults) hold them at the vendor.
 */

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DEFENDER: RateWindow[] = [
  { limit: 100, windowMs: MINUTE },
  { limit: 1500, windowMs: HOUR },
];

class Clock {
  t = 1_000_000;
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/** Asks for a slot for `caller` with no time to wait: the release, or the refusal. */
async function ask(limiter: RateLimiter, caller: string): Promise<Release | UpstreamError> {
  const deadline = new Deadline(0);
  deadline.caller = caller;
  return limiter.acquire(deadline).catch((err: unknown) => {
    if (!(err instanceof UpstreamError)) throw err;
    return err;
  });
}

/** Takes up to `n` slots for `caller`, each call finishing at once; how many it got. */
async function take(limiter: RateLimiter, caller: string, n: number): Promise<number> {
  let got = 0;
  for (let i = 0; i < n; i++) {
    const r = await ask(limiter, caller);
    if (r instanceof UpstreamError) break;
    r();
    got++;
  }
  return got;
}

async function refusal(limiter: RateLimiter, caller: string): Promise<UpstreamError> {
  const r = await ask(limiter, caller);
  if (!(r instanceof UpstreamError)) {
    r(false);
    throw new Error(`${caller} was granted a slot`);
  }
  return r;
}

describe("how a window is shared between callers (sharesOf)", () => {
  it("states the numbers the docs give: cap, reserve and ration per window", () => {
    expect(sharesOf({ limit: 100, windowMs: MINUTE })).toEqual({ cap: 60, reserve: 10, ration: 2 });
    expect(sharesOf({ limit: 1500, windowMs: HOUR })).toEqual({ cap: 900, reserve: 150, ration: 30 });
    expect(sharesOf({ limit: 10, windowMs: 1000 })).toEqual({ cap: 6, reserve: 1, ration: 1 });
    // A window under 10 calls is not split; a share of 100% leaves the reserve out of a caller's cap.
    expect(sharesOf({ limit: 9, windowMs: 1000 })).toEqual({ cap: 9, reserve: 0, ration: 0 });
    expect(sharesOf({ limit: 100, windowMs: MINUTE }, 1)).toEqual({ cap: 90, reserve: 10, ration: 2 });
    expect(sharesOf({ limit: 100, windowMs: MINUTE }, 0.01)).toEqual({ cap: 1, reserve: 10, ration: 1 });
  });
});

describe("RateLimiter's rules, on an injected clock", () => {
  it("a caller holds at most its share of the minute, and is told when its oldest call ages out", async () => {
    const clock = new Clock();
    const limiter = new RateLimiter("DEFENDER", DEFENDER, 100, clock.now);
    const start = clock.t;
    for (let i = 0; i < 60; i++) {
      expect(await take(limiter, "key:a", 1)).toBe(1);
      clock.advance(100);
    }
    // 60 of 100 held: refused, until its first call (at `start`) leaves the window.
    clock.t = start + 30_000;
    expect((await refusal(limiter, "key:a")).retryAfter).toBe(30);
    // Another caller is not held back by A's cap.
    expect(await take(limiter, "key:b", 1)).toBe(1);
    // Once A's first call is a minute old, A gets one slot again.
    clock.t = start + MINUTE + 1;
    expect(await take(limiter, "key:a", 5)).toBe(1);
  });

  it("a caller holds at most its share of the hour (900 of 1,500), minute after minute", async () => {
    const clock = new Clock();
    const limiter = new RateLimiter("DEFENDER", DEFENDER, 100, clock.now);
    const start = clock.t;
    let got = 0;
    for (let minute = 0; minute < 20; minute++) {
      got += await take(limiter, "key:a", 100);
      clock.advance(MINUTE);
    }
    // 60 a minute for 15 minutes, then nothing: 900, not the 1,350 a caller could hold before.
    expect(got).toBe(900);
    const refused = await refusal(limiter, "key:a");
    // Its first calls leave the hour at start + 1 h (now is start + 20 min).
    expect(refused.retryAfter).toBe((start + HOUR - clock.t) / 1000);
    // Others still get the rest of the hour: 1500 − 900 − the reserve's 150.
    expect(await take(limiter, "key:b", 500)).toBe(60);
  });

  it("two callers flooding one after the other leave the reserve to newcomers, a ration each", async () => {
    const clock = new Clock();
    const limiter = new RateLimiter("DEFENDER", DEFENDER, 100, clock.now);
    expect(await take(limiter, "key:a", 100)).toBe(60);
    // B gets the rest of the window but the reserve (it holds more than a ration: no newcomer).
    expect(await take(limiter, "key:b", 100)).toBe(30);
    // The reserve's 10 slots: a ration of 2 for each newcomer, not all of it for the first.
    for (const c of ["key:c", "key:d", "key:e", "key:f", "key:g"]) expect(await take(limiter, c, 5)).toBe(2);
    // The window is full now: the next newcomer waits for the first calls to age out.
    const late = await refusal(limiter, "key:h");
    expect(late.retryAfter).toBe(60);
  });

  it("a newcomer takes from the reserve only while it holds less than its ration, in every window", async () => {
    const clock = new Clock();
    // ESET's one window: cap 6, reserve 1, ration 1.
    const limiter = new RateLimiter("ESET", [{ limit: 10, windowMs: 1000 }], 100, clock.now);
    expect(await take(limiter, "key:a", 10)).toBe(6);
    expect(await take(limiter, "key:b", 10)).toBe(3);
    expect(await take(limiter, "key:c", 10)).toBe(1);
    expect(await take(limiter, "key:d", 10)).toBe(0);
    // Past the hour's general slots, a newcomer of the minute is no newcomer of the hour: none of the hour's reserve.
    const hourly = new RateLimiter("DEFENDER", DEFENDER, 100, clock.now);
    for (const [c, n] of [
      ["key:a", 900],
      ["key:b", 450],
    ] as const) {
      let got = 0;
      while (got < n) {
        got += await take(hourly, c, 100);
        clock.advance(MINUTE);
      }
    }
    // The hour holds 1,350: C (nothing in the hour yet) gets its ration of the hour's reserve, over minutes.
    let c = 0;
    for (let minute = 0; minute < 10; minute++) {
      c += await take(hourly, "key:c", 100);
      clock.advance(MINUTE);
    }
    expect(c).toBe(30);
  });

  it("a queued caller is served before a flooding caller's backlog when a slot frees (fewest held first)", async () => {
    const clock = new Clock();
    const limiter = new RateLimiter("ESET", [{ limit: 4, windowMs: 1000 }], 100, clock.now);
    const a = await Promise.all([1, 2, 3, 4].map(() => limiter.acquire(Object.assign(new Deadline(5_000), { caller: "key:a" }))));
    const order: string[] = [];
    const waiting = [
      limiter.acquire(Object.assign(new Deadline(5_000), { caller: "key:a" })).then((r) => (order.push("a"), r)),
      limiter.acquire(Object.assign(new Deadline(5_000), { caller: "key:b" })).then((r) => (order.push("b"), r)),
    ];
    // A's first call finishes; a window later its slot frees, and goes to B (holding none).
    a[0]!();
    clock.advance(1_001);
    a[1]!();
    clock.advance(1_001);
    for (const r of a.slice(2)) r();
    const granted = await Promise.all(waiting);
    for (const r of granted) r();
    expect(order).toEqual(["b", "a"]);
    limiter.close();
  });
});

describe("a replica's part of a shared budget (while the shared count is out of reach)", () => {
  it("takes limit / replicas, its caller shares scaled alike", async () => {
    const clock = new Clock();
    const limiter = new RateLimiter("DEFENDER", [{ limit: 100, windowMs: MINUTE }], 100, clock.now);
    limiter.setPart({ divisor: 2, since: clock.t, baseline: [[]], until: Infinity });
    // Its part is 50: one caller's share of it 30, the reserve 5 (ration 1).
    expect(await take(limiter, "key:a", 100)).toBe(30);
    expect(await take(limiter, "key:b", 100)).toBe(15);
    expect(await take(limiter, "key:c", 100)).toBe(1);
    let newcomers = 0;
    for (let i = 0; i < 10; i++) newcomers += await take(limiter, `key:n${i}`, 5);
    expect(newcomers).toBe(4);
  });

  it("counts the fleet's calls as last seen, a replica's share of them, until they leave the window", async () => {
    const clock = new Clock();
    const limiter = new RateLimiter("DEFENDER", [{ limit: 100, windowMs: MINUTE }], 100, clock.now);
    // Before the part began this replica made 10 calls, which the fleet's 80 (30 s ago) include.
    expect(await take(limiter, "key:a", 10)).toBe(10);
    clock.advance(1);
    limiter.setPart({ divisor: 2, since: clock.t, baseline: [[{ at: clock.t - 30_000, count: 80 }]], until: Infinity });
    // Its part counts 80 / 2 = 40 of 50: A (no newcomer) gets up to the reserve's 5, a newcomer its ration.
    expect(await take(limiter, "key:a", 100)).toBe(5);
    for (const c of ["key:b", "key:c", "key:d", "key:e", "key:f"]) expect(await take(limiter, c, 100)).toBe(1);
    expect((await refusal(limiter, "key:g")).retryAfter).toBe(30);
    // The fleet's calls leave the window 30 s on: A fills its cap (30 of the part), B the rest but the reserve.
    clock.advance(30_001);
    expect(await take(limiter, "key:a", 100)).toBe(15);
    expect(await take(limiter, "key:b", 100)).toBe(20);
  });

  it("holds until the part's end, then the whole limit again", async () => {
    const clock = new Clock();
    const limiter = new RateLimiter("DEFENDER", [{ limit: 100, windowMs: MINUTE }], 100, clock.now);
    limiter.setPart({ divisor: 4, since: clock.t, baseline: [[]], until: clock.t + 5_000 });
    expect(await take(limiter, "key:a", 100)).toBe(15);
    clock.advance(5_000);
    expect(await take(limiter, "key:a", 100)).toBe(45);
  });
});
