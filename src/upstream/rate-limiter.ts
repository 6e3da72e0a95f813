import type { Deadline } from "./deadline";
import type { SourceName } from "./source";
import { UpstreamError } from "./upstream-error";

/** At most `limit` calls in any `windowMs` (a sliding window). */
export interface RateWindow {
  limit: number;
  windowMs: number;
}

/**
 * How one window is shared between callers (`sharesOf`): nobody holds more than `cap` of it, and its last
 * `reserve` slots go only to callers holding fewer than `ration` of it (newcomers), a ration each.
 */
export interface WindowShares {
  /** The most slots of the window one caller may hold (in flight or finished within it). */
  cap: number;
  /** The window's last slots: taken only by a caller that holds fewer than `ration` of the window. */
  reserve: number;
  /** A newcomer's ration of the reserve: a caller holding this many slots of the window is no newcomer. */
  ration: number;
}

/** The share of each window one caller may hold, by default (RATE_LIMIT_CALLER_SHARE). */
export const DEFAULT_CALLER_SHARE = 0.6;

/**
 * The sharing rules of a window of `limit` calls, for a caller share `share` (0–1): `cap` = share × limit
 * (at most limit − reserve), `reserve` = a tenth of the limit, `ration` = a fifth of the reserve (at
 * least 1), so the reserve serves at least five newcomers a window. Defender's 100/60s: 60, 10, 2; its
 * 1500/1h: 900, 150, 30; ESET's 10/1s: 6, 1, 1. A window under 10 calls is too small to split: one
 * caller may take all of it (as two callers get it in turns through the fair queue).
 */
export function sharesOf(w: RateWindow, share: number = DEFAULT_CALLER_SHARE): WindowShares {
  if (w.limit < 10) return { cap: w.limit, reserve: 0, ration: 0 };
  const reserve = Math.floor(w.limit / 10);
  const cap = Math.max(1, Math.min(w.limit - reserve, Math.floor(w.limit * share)));
  return { cap, reserve, ration: Math.min(cap, Math.max(1, Math.floor(reserve / 5))) };
}

interface Waiter {
  caller: string;
  seq: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Call when the attempt is over (answer, error or timeout): its slot starts ageing out of the window then.
 * `sent: false` hands back a slot that was never used (no call went out), so it does not count.
 */
export type Release = (sent?: boolean) => void;

/**
 * What the retrying sender needs from a source's outbound limit: in process, or shared through Redis, or
 * one of either per bucket of the source's API (`BucketedLimiter`). `path` is the call's path (with its
 * query), for a limiter that buckets calls by it; the others ignore it.
 */
export interface OutboundLimiter {
  acquire(deadline: Deadline, path?: string): Promise<Release>;
  /** A 429's Retry-After for the call to `path`. */
  pauseFor(ms: number, path?: string): void;
  readonly queueDepth: number;
  close(): void;
}

/**
 * A source's outbound limit kept per bucket of its API, for a vendor whose budget may be per API rather than
 * per app (Defender's docs say "per API": DEFENDER_RATE_LIMIT_SCOPE=endpoint). Each bucket is a whole limiter
 * with the source's windows, made on first use; a 429 pauses only its own bucket. `bucketOf` names the
 * bucket of a path, from a small fixed set (never from the ids a path carries), so buckets stay few.
 */
export class BucketedLimiter implements OutboundLimiter {
  private readonly buckets = new Map<string, OutboundLimiter>();

  constructor(
    private readonly bucketOf: (path: string) => string,
    private readonly make: (bucket: string) => OutboundLimiter,
  ) {}

  get queueDepth(): number {
    let depth = 0;
    for (const limiter of this.buckets.values()) depth += limiter.queueDepth;
    return depth;
  }

  acquire(deadline: Deadline, path = ""): Promise<Release> {
    return this.limiterFor(path).acquire(deadline, path);
  }

  pauseFor(ms: number, path = ""): void {
    this.limiterFor(path).pauseFor(ms, path);
  }

  close(): void {
    for (const limiter of this.buckets.values()) limiter.close();
  }

  private limiterFor(path: string): OutboundLimiter {
    const bucket = this.bucketOf(path);
    let limiter = this.buckets.get(bucket);
    if (limiter === undefined) {
      limiter = this.make(bucket);
      this.buckets.set(bucket, limiter);
    }
    return limiter;
  }
}

/** One window's log: when each counted call finished, and whose it was, oldest first. */
interface WindowLog {
  times: number[];
  callers: string[];
  /** Finished calls within the window, per caller. */
  held: Map<string, number>;
}

/**
 * A replica's part of a budget it shares with other replicas, while the shared count (Redis) is out of
 * reach or was just re-joined (see SharedRateLimiter): the fleet's calls as last seen count for everyone,
 * and this replica's own calls since then count `divisor` times, so N replicas each keeping to this stay
 * together within the limit: baseline + N × own ≤ limit.
 */
export interface DetachedPart {
  /** Replicas sharing the budget (the last known membership), at least 1. */
  divisor: number;
  /** From when (this limiter's clock) this replica's finished calls count as its own part (earlier ones are in `baseline`). */
  since: number;
  /** Per window: the fleet's calls as last seen, in buckets each counted until its `at` + the window. */
  baseline: ReadonlyArray<ReadonlyArray<{ at: number; count: number }>>;
  /** Until when the part holds (Infinity while detached; a while after re-joining, until every replica has). */
  until: number;
}

/**
 * Outbound rate limiting for one source, as sliding-window logs: a call may go when, in every window, fewer
 * than `limit` calls are in flight or finished within the last `windowMs`. A call's slot is timed from when
 * it finished, not when it was sent: the vendor counts arrivals, and an arrival can lag our send by any
 * network delay, so timing from the send could show the vendor a few calls too many in some window.
 *
 * The budget is shared between callers (the request's principal, `Deadline.caller`), in every window:
 * - calls over the limit wait in one queue per caller; when a slot frees it goes to the waiting caller
 *   holding the fewest slots of the window (first come, first served between equals), so a caller that
 *   floods the vendor does not make the others wait behind its backlog: max-min fair shares;
 * - a caller holds at most `cap` of a window, and the window's last `reserve` slots go only to callers
 *   holding fewer than `ration` of it (see `sharesOf`): two callers flooding one after the other take at
 *   most limit − reserve together, and a third finds a slot at once.
 * The queues are bounded by `maxQueue` in all. A call that could not get a slot before its request's
 * deadline fails at once as rate-limited, with the expected wait, and never reaches the vendor; a queued call
 * leaves the queue when its request's lifetime ends (`Deadline.signal`: the deadline, or the answer sent).
 */
export class RateLimiter implements OutboundLimiter {
  private readonly logs: WindowLog[];
  private readonly shares: WindowShares[];
  private inFlight = 0;
  private readonly inFlightBy = new Map<string, number>();
  /** Waiting calls per caller, FIFO within a caller; a caller's entry exists only while it waits. */
  private readonly queues = new Map<string, Waiter[]>();
  private queued = 0;
  private seq = 0;
  private wakeTimer?: NodeJS.Timeout;
  private pausedUntil = 0;
  /** Calls granted since the last pause ended (counted while its resume pace lasts). */
  private resumed = 0;
  /** The window whose pace a backlog resumes at after a pause (the shortest). */
  private readonly pace?: RateWindow;
  private part?: DetachedPart;
  /** The windows' sharing rules within the part's limits (limit / divisor). */
  private partShares: WindowShares[] = [];

  constructor(
    private readonly source: SourceName,
    private readonly windows: readonly RateWindow[],
    private readonly maxQueue: number,
    private readonly now: () => number = Date.now,
    /** Told how long each granted call waited (0 when it went straight through), for metrics. */
    private readonly onWait: (ms: number) => void = () => {},
    /** The share of each window one caller may hold (RATE_LIMIT_CALLER_SHARE, 0–1). */
    private readonly share: number = DEFAULT_CALLER_SHARE,
  ) {
    this.logs = windows.map(() => ({ times: [], callers: [], held: new Map() }));
    this.shares = windows.map((w) => sharesOf(w, share));
    this.pace = resumePace(windows);
  }

  get queueDepth(): number {
    return this.queued;
  }

  /** The calls in flight or finished within each window, oldest first (for re-seeding a shared count). */
  entries(): Array<{ inFlight: number; finished: Array<{ at: number; caller: string }> }> {
    this.prune(this.now());
    return this.logs.map((log) => ({
      inFlight: this.inFlight,
      finished: log.times.map((at, j) => ({ at, caller: log.callers[j]! })),
    }));
  }

  /**
   * Holds this limiter to its replica's part of a shared budget (see `DetachedPart`) until `part.until`,
   * or lifts the part (undefined). Wakes the queue: the limits changed.
   */
  setPart(part: DetachedPart | undefined): void {
    this.part = part;
    this.partShares = part
      ? this.windows.map((w) => sharesOf({ limit: Math.max(1, Math.floor(w.limit / part.divisor)), windowMs: w.windowMs }, this.share))
      : [];
    if (this.queued > 0) this.schedule();
  }

  /**
   * Resolves when the call may go out, with the function to call once it is over. Rejects with an
   * UpstreamError (rate-limited) when no slot can be had before the deadline.
   */
  acquire(deadline: Deadline): Promise<Release> {
    const caller = deadline.caller ?? "";
    const t = this.now();
    if (this.windows.length === 0 && this.queued === 0 && this.pausedUntil <= t) {
      this.onWait(0);
      return Promise.resolve(this.take(caller));
    }
    this.prune(t);
    if (this.queued === 0 && this.waitFor(caller, 0, t) === 0) {
      this.onWait(0);
      return Promise.resolve(this.take(caller));
    }
    const own = this.queues.get(caller)?.length ?? 0;
    const expectedWait = this.waitFor(caller, this.positionOf(caller, own), t, own);
    if (this.queued >= this.maxQueue || expectedWait >= deadline.remaining()) {
      return Promise.reject(this.refusal(expectedWait));
    }
    const signal = deadline.signal;
    return new Promise<Release>((resolve, reject) => {
      // The request's lifetime ends (its deadline, or its answer was sent): it leaves the queue at once.
      const leave = (): void => {
        this.dequeue(waiter);
        const now = this.now();
        this.prune(now);
        reject(this.refusal(this.waitFor(caller, this.positionOf(caller, 0), now)));
      };
      const waiter: Waiter = {
        caller,
        seq: ++this.seq,
        resolve: () => {
          signal.removeEventListener("abort", leave);
          this.onWait(this.now() - t);
          resolve(this.take(caller));
        },
        reject: (err) => {
          signal.removeEventListener("abort", leave);
          reject(err);
        },
      };
      signal.addEventListener("abort", leave);
      const queue = this.queues.get(caller);
      if (queue) queue.push(waiter);
      else this.queues.set(caller, [waiter]);
      this.queued++;
      this.schedule();
    });
  }

  /**
   * The vendor said "wait" (429 + Retry-After): hold every caller back until then, and let the backlog
   * resume at the pace of the shortest window (see `resumeWait`), not all at once.
   */
  pauseFor(ms: number): void {
    const until = this.now() + ms;
    if (until > this.pausedUntil) {
      this.pausedUntil = until;
      this.resumed = 0;
    }
    this.schedule();
  }

  /** Rejects every queued caller (shutdown). */
  close(): void {
    clearTimeout(this.wakeTimer);
    for (const queue of this.queues.values()) {
      for (const waiter of queue) {
        waiter.reject(new UpstreamError(this.source, "rate-limited", `${this.source}: shutting down`, { retryAfter: 1 }));
      }
    }
    this.queues.clear();
    this.queued = 0;
  }

  refusal(waitMs: number): UpstreamError {
    const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
    return new UpstreamError(this.source, "rate-limited", `${this.source}: no rate-limit slot within the request deadline`, { retryAfter });
  }

  private take(caller: string): Release {
    const t = this.now();
    if (this.pace && t >= this.pausedUntil && t < this.pausedUntil + this.pace.windowMs) this.resumed++;
    this.inFlight++;
    this.inFlightBy.set(caller, (this.inFlightBy.get(caller) ?? 0) + 1);
    let released = false;
    return (sent = true) => {
      if (released) return;
      released = true;
      this.inFlight--;
      const left = this.inFlightBy.get(caller)! - 1;
      if (left === 0) this.inFlightBy.delete(caller);
      else this.inFlightBy.set(caller, left);
      if (sent && this.windows.length > 0) {
        const end = this.now();
        for (const log of this.logs) {
          log.times.push(end);
          log.callers.push(caller);
          log.held.set(caller, (log.held.get(caller) ?? 0) + 1);
        }
      }
      if (this.queued > 0) this.schedule();
    };
  }

  /** Slots of window `i` the caller holds: in flight, or finished within the window (after `prune`). */
  private heldBy(i: number, caller: string): number {
    return (this.logs[i]?.held.get(caller) ?? 0) + (this.inFlightBy.get(caller) ?? 0);
  }

  /** Drops what aged out of each window. */
  private prune(t: number): void {
    if (this.part !== undefined && t >= this.part.until) {
      // Not setPart: prune runs inside schedule, which looks at the queue again anyway.
      this.part = undefined;
      this.partShares = [];
    }
    this.windows.forEach((w, i) => {
      const log = this.logs[i]!;
      let n = 0;
      while (n < log.times.length && log.times[n]! <= t - w.windowMs) {
        const c = log.callers[n]!;
        const left = log.held.get(c)! - 1;
        if (left === 0) log.held.delete(c);
        else log.held.set(c, left);
        n++;
      }
      if (n > 0) {
        log.times.splice(0, n);
        log.callers.splice(0, n);
      }
    });
  }

  /**
   * The calls that count against window `i` at `t` (after `prune`): every call in it; or, holding a
   * replica's part (whose limit is limit / divisor), this replica's own calls since the part began plus its
   * share of the fleet's baseline.
   */
  private countOf(i: number, t: number): number {
    const log = this.logs[i]!;
    const part = this.part;
    if (part === undefined) return log.times.length + this.inFlight;
    let own = 0;
    for (let j = log.times.length - 1; j >= 0 && log.times[j]! >= part.since; j--) own++;
    let fleet = 0;
    for (const b of part.baseline[i] ?? []) if (b.at > t - this.windows[i]!.windowMs) fleet += b.count;
    return own + this.inFlight + Math.ceil(fleet / part.divisor);
  }

  /**
   * How many queued calls would go before a new call of `caller` that has `own` of its own calls queued
   * ahead of it: the slots go to whoever holds fewest, so another caller's waiters go first only while
   * it holds fewer than this caller will (an estimate: slots ageing out change the holdings).
   */
  private positionOf(caller: string, own: number): number {
    if (this.queued === own) return own;
    const mine = this.heldBy(0, caller) + own;
    let ahead = own;
    for (const [c, queue] of this.queues) {
      if (c === caller) continue;
      ahead += Math.min(queue.length, Math.max(0, mine + 1 - this.heldBy(0, c)));
    }
    return ahead;
  }

  /**
   * How long until the call `position` places behind the next granted one could go for `caller`, `own` of
   * those positions being its own calls (an estimate past one window): the windows' free slots (the
   * reserve counts only for a caller holding less than its ration), the caller's cap, and a 429 pause.
   * Expects `prune(t)` to have run.
   */
  private waitFor(caller: string, position: number, t: number, own = 0): number {
    let wait = Math.max(0, this.pausedUntil - t);
    if (this.pace) wait = Math.max(wait, resumeWait(this.pace, this.pausedUntil, t >= this.pausedUntil ? this.resumed : 0, position, t));
    for (let i = 0; i < this.windows.length; i++) {
      // No allocation here: this runs for every call.
      const part = this.part;
      const limit = part === undefined ? this.windows[i]!.limit : Math.max(1, Math.floor(this.windows[i]!.limit / part.divisor));
      const shares = part === undefined ? this.shares[i]! : this.partShares[i]!;
      const count = this.countOf(i, t);
      const held = this.heldBy(i, caller);
      // A newcomer (holding less than its ration) may use the reserve; everyone else stops short of it.
      const open = held + own < shares.ration ? limit : limit - shares.reserve;
      const free = open - count;
      if (position >= free) wait = Math.max(wait, this.freedAfter(i, position - free, open, t) - t);
      // The caller's cap: its own slots must age out first.
      const over = held + own - shares.cap;
      if (over >= 0) wait = Math.max(wait, this.ownFreedAfter(i, caller, over, shares.cap, t) - t);
    }
    return wait;
  }

  /** When the `k`th slot (0-based) of window `i` beyond its `open` slots frees. */
  private freedAfter(i: number, k: number, open: number, t: number): number {
    const w = this.windows[i]!.windowMs;
    const log = this.logs[i]!;
    const part = this.part;
    if (part === undefined) {
      // Finished calls free their slot a window after they finished; calls still in flight at the earliest
      // a window from now. Beyond a window's worth, a round per window.
      const per = Math.max(1, open);
      const idx = k % per;
      const base = idx < log.times.length ? log.times[idx]! : t;
      return base + w * (Math.floor(k / per) + 1);
    }
    // Holding a part: own calls since it began free one slot each, the baseline's buckets 1 / divisor each.
    const events: Array<{ at: number; frees: number }> = [];
    for (let j = 0; j < log.times.length; j++) if (log.times[j]! >= part.since) events.push({ at: log.times[j]! + w, frees: 1 });
    for (const b of part.baseline[i] ?? []) if (b.at > t - w) events.push({ at: b.at + w, frees: b.count / part.divisor });
    events.sort((a, b) => a.at - b.at);
    let freed = 0;
    for (const e of events) {
      freed += e.frees;
      if (freed >= k + 1) return e.at;
    }
    return (events.at(-1)?.at ?? t) + w;
  }

  /** When the caller's `k`th slot (0-based) of window `i` beyond its `cap` frees: its own oldest slots age out first. */
  private ownFreedAfter(i: number, caller: string, k: number, cap: number, t: number): number {
    const log = this.logs[i]!;
    const idx = k % cap;
    let base = t;
    for (let j = 0, n = 0; j < log.times.length; j++) {
      if (log.callers[j] !== caller) continue;
      if (n++ === idx) {
        base = log.times[j]!;
        break;
      }
    }
    return base + this.windows[i]!.windowMs * (Math.floor(k / cap) + 1);
  }

  /** The next caller to serve: among those whose head call may go now, the one holding fewest slots. */
  private schedule(): void {
    clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    while (this.queued > 0) {
      const t = this.now();
      this.prune(t);
      let best: Waiter[] | undefined;
      let bestHeld = Infinity;
      let soonest = Infinity;
      for (const queue of this.queues.values()) {
        const head = queue[0]!;
        const wait = this.waitFor(head.caller, 0, t);
        if (wait > 0) {
          soonest = Math.min(soonest, wait);
          continue;
        }
        const held = this.heldBy(0, head.caller);
        if (held < bestHeld || (held === bestHeld && head.seq < best![0]!.seq)) {
          best = queue;
          bestHeld = held;
        }
      }
      if (best === undefined) {
        if (this.part !== undefined && this.part.until > t) soonest = Math.min(soonest, this.part.until - t);
        this.wakeTimer = setTimeout(() => this.schedule(), Math.max(1, Math.ceil(soonest)));
        this.wakeTimer.unref();
        return;
      }
      const waiter = best[0]!;
      this.dequeue(waiter);
      waiter.resolve();
    }
  }

  private dequeue(waiter: Waiter): void {
    const queue = this.queues.get(waiter.caller);
    const i = queue ? queue.indexOf(waiter) : -1;
    if (i < 0) return;
    queue!.splice(i, 1);
    if (queue!.length === 0) this.queues.delete(waiter.caller);
    this.queued--;
  }
}
/**
 * After a 429's pause, the backlog resumes at the pace of the shortest window: its `limit` calls spread
 * evenly over its `windowMs` (ESET's 10/1s: one call per 100 ms), for one window from the pause's end.
 * Sending the whole window at once would be legal by our count, but the vendor has just said its count is
 * fuller than ours: a burst risks the next 429 at once. A steady pace loses nothing over the window, and
 * the sliding window then keeps the calls spread (each slot frees a window after its call).
 */
export function resumePace(windows: readonly RateWindow[]): RateWindow | undefined {
  return windows.reduce<RateWindow | undefined>((a, w) => (a === undefined || w.windowMs < a.windowMs ? w : a), undefined);
}

/**
 * How long the call `position` places behind the next one must wait for its turn at the resume pace, with
 * `resumed` calls granted since the pause ended at `pausedUntil` (0 when there was no pause).
 */
export function resumeWait(pace: RateWindow, pausedUntil: number, resumed: number, position: number, t: number): number {
  if (pausedUntil <= 0 || t >= pausedUntil + pace.windowMs) return 0;
  return Math.max(0, pausedUntil + ((resumed + position) * pace.windowMs) / pace.limit - t);
}

/** Parses "100/60s,1500/1h" (or "off") into windows. Returns a problem message for bad input. */
export function parseRateWindows(spec: string): RateWindow[] | string {
  if (spec.trim().toLowerCase() === "off") return [];
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const windows: RateWindow[] = [];
  for (const part of spec.split(",")) {
    const m = /^\s*(\d+)\s*\/\s*(\d+)?\s*(ms|s|m|h)\s*$/.exec(part);
    if (!m || Number(m[1]) < 1) return `"${part.trim()}" is not CALLS/DURATION such as 100/60s or 1500/1h`;
    windows.push({ limit: Number(m[1]), windowMs: Number(m[2] ?? 1) * units[m[3]!]! });
  }
  return windows;
}
