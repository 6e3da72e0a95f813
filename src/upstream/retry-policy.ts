export interface RetryOptions {
  /** Retries after the first attempt (so `maxRetries + 1` attempts at most). */
  maxRetries: number;
  /** First backoff ceiling; it doubles per retry (full jitter picks a wait between 0 and the ceiling). */
  baseDelayMs: number;
  /** The backoff ceiling never grows past this. */
  maxDelayMs: number;
}

/** Statuses worth another try: throttling and transient server failures. Never 400, 401, 403, 404. */
const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);

export class RetryPolicy {
  constructor(
    readonly options: RetryOptions,
    private readonly random: () => number = Math.random,
  ) {}

  isRetryableStatus(status: number): boolean {
    return RETRYABLE_STATUS.has(status);
  }

  canRetry(retriesDone: number): boolean {
    return retriesDone < this.options.maxRetries;
  }

  /** Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"). */
  backoffMs(retriesDone: number): number {
    const ceiling = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** retriesDone);
    return Math.floor(this.random() * ceiling);
  }
}

/**
 * Retry-After as milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). Undefined when absent or
 * unreadable, so the caller falls back to its own backoff.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
