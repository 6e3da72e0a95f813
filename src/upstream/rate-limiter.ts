import type { Deadline } from "./deadline";
import type { SourceName } from "./source";
import { UpstreamError } from "./upstream-error";

/** At most `limit` calls in any `windowMs` (a sliding window). */
export interface RateWindow {
  limit: number;
  windowMs: number;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
  timer?: NodeJS.Timeout;
}

/**
 * Call when the attempt is over (answer, error or timeout): its slot starts ageing out of the window then.
 * `sent: false` hands back a slot that was never used (no call went out), so it does not count.
 */
export type Release = (sent?: boolean) => void;

/** What the retrying sender needs from a source's outbound limit: in process, or shared through Redis. */
export interface OutboundLimiter {
  acquire(deadline: Deadline): Promise<Release>;
  pauseFor(ms: number): void;
  readonly queueDepth: number;
  close(): void;
}

/**
 * Outbound rate limiting for one source, as sliding-window logs: a call may go when, in every window, fewer
 * than `limit` calls are in flight or finished within the last `windowMs`. A call's slot is timed from when
 * it finished, not when it was sent: the vendor counts arrivals, and an arrival can lag our send by any
 * network delay, so timing from the send could show the vendor a few calls too many in some window. Calls over the limit wait in one FIFO queue (fair:
 * first come, first served), bounded by `maxQueue`. A call that could not get a slot before its request's
 * deadline fails at once as rate-limited, with the expected wait, and never reaches the vendor.
 */
export class RateLimiter implements OutboundLimiter {
  private readonly logs: number[][];
  private inFlight = 0;
  private readonly queue: Waiter[] = [];
  private wakeTimer?: NodeJS.Timeout;
  private pausedUntil = 0;

  constructor(
    private readonly source: SourceName,
    private readonly windows: readonly RateWindow[],
    private readonly maxQueue: number,
    private readonly now: () => number = Date.now,
    /** Told how long each granted call waited (0 when it went straight through), for metrics. */
    private readonly onWait: (ms: number) => void = () => {},
  ) {
    this.logs = windows.map(() => []);
  }

  get queueDepth(): number {
    return this.queue.length;
  }

  /**
   * Resolves when the call may go out, with the function to call once it is over. Rejects with an
   * UpstreamError (rate-limited) when no slot can be had before the deadline.
   */
  acquire(deadline: Deadline): Promise<Release> {
    if (this.queue.length === 0 && this.waitFor(0) === 0) {
      this.onWait(0);
      return Promise.resolve(this.take());
    }
    const expectedWait = this.waitFor(this.queue.length);
    if (this.queue.length >= this.maxQueue || expectedWait >= deadline.remaining()) {
      return Promise.reject(this.refusal(expectedWait));
    }
    const started = this.now();
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: () => {
          this.onWait(this.now() - started);
          resolve(this.take());
        },
        reject,
      };
      waiter.timer = setTimeout(() => {
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
        reject(this.refusal(this.waitFor(this.queue.length)));
      }, deadline.remaining());
      this.queue.push(waiter);
      this.schedule();
    });
  }

  /** The vendor said "wait" (429 + Retry-After): hold every caller back until then. */
  pauseFor(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
    this.schedule();
  }

  /** Rejects every queued caller (shutdown). */
  close(): void {
    clearTimeout(this.wakeTimer);
    for (const waiter of this.queue.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(new UpstreamError(this.source, "rate-limited", `${this.source}: shutting down`, { retryAfter: 1 }));
    }
  }

  refusal(waitMs: number): UpstreamError {
    const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
    return new UpstreamError(this.source, "rate-limited", `${this.source}: no rate-limit slot within the request deadline`, { retryAfter });
  }

  private take(): Release {
    this.inFlight++;
    let released = false;
    return (sent = true) => {
      if (released) return;
      released = true;
      this.inFlight--;
      if (sent) {
        const t = this.now();
        for (const log of this.logs) log.push(t);
      }
      this.schedule();
    };
  }

  /** How long until the call `position` places behind the queue head could go (an estimate past one window). */
  private waitFor(position: number): number {
    const t = this.now();
    let wait = Math.max(0, this.pausedUntil - t);
    this.windows.forEach((w, i) => {
      const log = this.logs[i]!;
      while (log.length > 0 && log[0]! <= t - w.windowMs) log.shift();
      const free = w.limit - log.length - this.inFlight;
      if (position < free) return;
      const k = position - free; // slots that must open up before ours
      const cycles = Math.floor(k / w.limit);
      // Finished calls free their slot a window after they finished; calls still in flight at the earliest
      // a window from now.
      const base = k % w.limit < log.length ? log[k % w.limit]! : t;
      wait = Math.max(wait, base + w.windowMs * (cycles + 1) - t);
    });
    return wait;
  }

  private schedule(): void {
    clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    while (this.queue.length > 0) {
      const wait = this.waitFor(0);
      if (wait > 0) {
        this.wakeTimer = setTimeout(() => this.schedule(), wait);
        this.wakeTimer.unref();
        return;
      }
      const waiter = this.queue.shift()!;
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
  }
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
