import type { SourceName } from "./source";
import { UpstreamError } from "./upstream-error";

export type CircuitState = "closed" | "open" | "half-open";

export interface CircuitOptions {
  /** Fewest requests in the window before their failure rate is judged (a handful of errors is noise). */
  minimumRequests: number;
  /** Failure rate, above which the circuit opens (0.5: more than half the requests failed). */
  failureRate: number;
  /** The sliding window the rate is measured over. */
  windowMs: number;
  /** How long an open circuit fails fast before one probe request is let through. */
  openMs: number;
}

/** What beforeCall hands out: a request's results count only for the circuit state it started in. */
export interface CallTicket {
  readonly generation: number;
  readonly probe: boolean;
}

/**
 * Per-source circuit breaker. It opens on the failure *rate* over a sliding window, judged only past a
 * minimum volume, as opossum, cockatiel and resilience4j judge it, rather than on a count of consecutive
 * failures that retries of random noise reach. Around it, usergraph's own bookkeeping (a library's policy
 * wraps a call; ours is split across the retry loop): a request counts once, whatever its retries; a result
 * that arrives after the state changed (a late answer from before the circuit opened or closed) is ignored;
 * and only the half-open probe's own result closes the circuit or opens it again.
 */
export class CircuitBreaker {
  private generation = 0;
  private openedAt = 0;
  private probing = false;
  private current: CircuitState = "closed";
  private readonly window: RollingWindow;

  constructor(
    private readonly source: SourceName,
    private readonly options: CircuitOptions,
    private readonly onChange: (state: CircuitState) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {
    this.window = new RollingWindow(options.windowMs);
  }

  get state(): CircuitState {
    if (this.current === "open" && this.now() - this.openedAt >= this.options.openMs) return "half-open";
    return this.current;
  }

  /** Throws (fail fast) when the circuit is open, or half-open with its probe already out. */
  beforeCall(): CallTicket {
    const state = this.state;
    if (state === "closed") return { generation: this.generation, probe: false };
    if (state === "half-open" && !this.probing) {
      this.probing = true;
      this.set("half-open");
      return { generation: this.generation, probe: true };
    }
    const retryAfter = Math.max(1, Math.ceil((this.openedAt + this.options.openMs - this.now()) / 1000));
    throw new UpstreamError(this.source, "circuit-open", `${this.source}: circuit open after repeated failures`, { retryAfter });
  }

  recordSuccess(ticket: CallTicket): void {
    if (ticket.generation !== this.generation) return;
    if (ticket.probe) {
      this.probing = false;
      this.window.clear(); // forgets the failures that opened it
      this.window.add(this.now(), false);
      this.set("closed");
      return;
    }
    if (this.current === "closed") this.window.add(this.now(), false);
  }

  recordFailure(ticket: CallTicket): void {
    if (ticket.generation !== this.generation) return;
    if (ticket.probe) {
      this.probing = false;
      this.open();
      return;
    }
    if (this.current !== "closed") return;
    const now = this.now();
    this.window.add(now, true);
    const { requests, failures } = this.window.counts(now);
    if (requests >= this.options.minimumRequests && failures > this.options.failureRate * requests) this.open();
  }

  /** The probe never went out (for example no rate-limit slot): let the next caller probe instead. */
  releaseProbe(ticket: CallTicket): void {
    if (ticket.probe && ticket.generation === this.generation) this.probing = false;
  }

  /**
   * An answer that is not a failure of the vendor (a 4xx): not counted in the rate, but a probe that gets
   * one has shown the vendor answers, so it closes the circuit.
   */
  recordNeutral(ticket: CallTicket): void {
    if (ticket.probe) this.recordSuccess(ticket);
  }

  private open(): void {
    this.openedAt = this.now();
    this.set("open");
  }

  private set(state: CircuitState): void {
    if (this.current === state) return;
    this.current = state;
    this.generation++;
    this.onChange(state);
  }
}

const BUCKETS = 10;

/**
 * Requests and failures over the last window, in ten buckets (so a request leaves the window between 90 %
 * and 100 % of it after it was counted). Hand-written rather than cockatiel's SamplingBreaker, which this
 * class used to call: that one reads Date.now, not our clock, and expires only one bucket per recorded
 * request, so under sparse traffic four failures an hour ago and one now opened the circuit (cockatiel 3.2.1
 * and 4.0.0).
 */
class RollingWindow {
  private readonly bucketMs: number;
  private readonly ticks = new Array<number>(BUCKETS).fill(-Infinity);
  private readonly requests = new Array<number>(BUCKETS).fill(0);
  private readonly failures = new Array<number>(BUCKETS).fill(0);

  constructor(windowMs: number) {
    this.bucketMs = Math.max(1, windowMs / BUCKETS);
  }

  add(now: number, failed: boolean): void {
    const tick = Math.floor(now / this.bucketMs);
    const i = ((tick % BUCKETS) + BUCKETS) % BUCKETS;
    if (this.ticks[i] !== tick) {
      this.ticks[i] = tick;
      this.requests[i] = 0;
      this.failures[i] = 0;
    }
    this.requests[i]++;
    if (failed) this.failures[i]++;
  }

  counts(now: number): { requests: number; failures: number } {
    const oldest = Math.floor(now / this.bucketMs) - BUCKETS + 1;
    let requests = 0;
    let failures = 0;
    for (let i = 0; i < BUCKETS; i++) {
      if (this.ticks[i] < oldest) continue;
      requests += this.requests[i];
      failures += this.failures[i];
    }
    return { requests, failures };
  }

  clear(): void {
    this.ticks.fill(-Infinity);
  }
}
