import type { SourceName } from "./source";
import { UpstreamError } from "./upstream-error";

export type CircuitState = "closed" | "open" | "half-open";

/**
 * Per-source circuit breaker. After `threshold` consecutive failures (network errors, timeouts, 5xx) the
 * source fails fast for `openMs`; then one probe call is let through (half-open): success closes the circuit,
 * failure opens it again. The other source is unaffected.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private current: CircuitState = "closed";

  constructor(
    private readonly source: SourceName,
    private readonly threshold: number,
    private readonly openMs: number,
    private readonly onChange: (state: CircuitState) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  get state(): CircuitState {
    if (this.current === "open" && this.now() - this.openedAt >= this.openMs) return "half-open";
    return this.current;
  }

  /** Throws (fail fast) when the circuit is open, or half-open with its probe already out. */
  beforeCall(): void {
    const state = this.state;
    if (state === "closed") return;
    if (state === "half-open" && !this.probing) {
      this.probing = true;
      this.set("half-open");
      return;
    }
    const retryAfter = Math.max(1, Math.ceil((this.openedAt + this.openMs - this.now()) / 1000));
    throw new UpstreamError(this.source, "circuit-open", `${this.source}: circuit open after repeated failures`, { retryAfter });
  }

  recordSuccess(): void {
    this.failures = 0;
    this.probing = false;
    if (this.current !== "closed") this.set("closed");
  }

  recordFailure(): void {
    this.failures++;
    const wasProbe = this.probing;
    this.probing = false;
    if (wasProbe || this.failures >= this.threshold) {
      this.openedAt = this.now();
      this.set("open");
    }
  }

  /** The probe never went out (for example no rate-limit slot): let the next caller probe instead. */
  releaseProbe(): void {
    this.probing = false;
  }

  /** A call that neither proves nor disproves health (4xx, 429): release a probe slot without judging. */
  recordNeutral(): void {
    if (this.probing) {
      this.probing = false;
      this.recordSuccess();
    }
  }

  private set(state: CircuitState): void {
    if (this.current === state) return;
    this.current = state;
    this.onChange(state);
  }
}
