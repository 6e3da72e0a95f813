import { CircuitState as SamplerState, SamplingBreaker } from "cockatiel";
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
 * Per-source circuit breaker. The decision to open is cockatiel's SamplingBreaker: the failure *rate* over
 * a sliding window, judged only past a minimum volume, as opossum, cockatiel and resilience4j judge it,
 * rather than a count of consecutive failures that retries of random noise reach. What is usergraph's own
 * is the bookkeeping around it (cockatiel's policy wraps a call; ours is split across the retry loop):
 * a request counts once, whatever its retries; a result that arrives after the state changed (a late
 * answer from before the circuit opened or closed) is ignored; and only the half-open probe's own result
 * closes the circuit or opens it again.
 */
export class CircuitBreaker {
  private generation = 0;
  private openedAt = 0;
  private probing = false;
  private current: CircuitState = "closed";
  private readonly sampler: SamplingBreaker;

  constructor(
    private readonly source: SourceName,
    private readonly options: CircuitOptions,
    private readonly onChange: (state: CircuitState) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {
    this.sampler = new SamplingBreaker({
      threshold: Math.min(0.99, Math.max(0.01, options.failureRate)),
      duration: options.windowMs,
      // cockatiel asks for a minimum rate; ours is a minimum count in the window.
      minimumRps: options.minimumRequests / (options.windowMs / 1000),
    });
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
      this.sampler.success(SamplerState.HalfOpen); // forgets the failures that opened it
      this.set("closed");
      return;
    }
    if (this.current === "closed") this.sampler.success(SamplerState.Closed);
  }

  recordFailure(ticket: CallTicket): void {
    if (ticket.generation !== this.generation) return;
    if (ticket.probe) {
      this.probing = false;
      this.open();
      return;
    }
    if (this.current === "closed" && this.sampler.failure(SamplerState.Closed)) this.open();
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
