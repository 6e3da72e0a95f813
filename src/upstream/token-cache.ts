import type { Deadline } from "./deadline";
import { UpstreamError } from "./upstream-error";

export interface TokenSource {
  /** A bearer token valid for at least a little while longer. */
  getToken(deadline: Deadline): Promise<string>;
  /** The upstream rejected this token (401): forget it, unless a newer one already replaced it. */
  invalidate(token: string): void;
}

export interface FetchedToken {
  accessToken: string;
  expiresInSec: number;
}

export interface TokenBackoffOptions {
  /** The first wait after a failed token request; it doubles per consecutive failure. */
  baseMs: number;
  /** The longest wait after the token endpoint refused the credentials (400/401: a wrong or rotated secret). */
  maxMs: number;
  /**
   * The longest wait after any other failure (5xx, timeout, network). Short, so service resumes within a few
   * seconds of the endpoint's return (30 s here once meant 15–22 s of errors after the outage ended); the
   * attempts stay spaced at least half of it apart and shared by every caller, so it is no login storm.
   */
  maxTransientMs: number;
}

export const DEFAULT_TOKEN_BACKOFF: TokenBackoffOptions = { baseMs: 1_000, maxMs: 300_000, maxTransientMs: 4_000 };

/** What the cache tells its owner (logs, metrics). */
export interface TokenCacheEvents {
  onNewToken?: (token: string) => void;
  /** A token request failed; no other is sent for `retryInMs`. `servingCurrent`: a still-valid token goes on being used. */
  onFailure?: (err: unknown, retryInMs: number, servingCurrent: boolean) => void;
}

/**
 * Caches a bearer token and shares one in-flight token request between every concurrent caller (a hundred
 * parallel upstream calls at start-up cause one token request). Two rules keep a token endpoint's trouble
 * from spreading:
 *
 * - **A failure is remembered** with jittered exponential backoff: until the next try, every caller
 *   (queries and readiness probes alike) gets the remembered error without a new login, so a rotated
 *   secret costs a handful of logins, not one per probe (account lockout).
 * - **Renewal starts early and never discards a working token**: from `refreshAt` (a fifth of the lifetime,
 *   at most 5 minutes, before expiry) a renewal is tried; if it fails, the current token is served until it
 *   really expires (less a small margin so no call goes out with a token that expires in flight).
 */
export class TokenCache implements TokenSource {
  private current?: { value: string; refreshAt: number; usableUntil: number };
  private inflight?: Promise<string>;
  private failure?: { error: unknown; retryAt: number; consecutive: number };

  constructor(
    private readonly fetchToken: (deadline: Deadline) => Promise<FetchedToken>,
    private readonly events: TokenCacheEvents = {},
    private readonly backoff: TokenBackoffOptions = DEFAULT_TOKEN_BACKOFF,
    private readonly random: () => number = Math.random,
    /** How long a caller in the early-renewal window waits for the renewal before it goes on with the current token. */
    private readonly renewalWaitMs = 2_000,
    /** The clock the backoff and expiry rules read (unit tests pass their own). */
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * What is known without asking the vendor: a usable token is held ("ok"), the last request failed and is
   * remembered (its error), or neither ("idle": never asked, or the token ran out unused). For readiness of
   * tenants, which must never log in on its own.
   */
  peek(): { state: "ok" | "idle" } | { state: "failed"; error: unknown } {
    const now = this.now();
    if (this.current && now < this.current.usableUntil) return { state: "ok" };
    if (this.failure) return { state: "failed", error: this.failure.error };
    return { state: "idle" };
  }

  async getToken(deadline: Deadline): Promise<string> {
    const now = this.now();
    const current = this.current;
    if (current && now < current.refreshAt) return current.value;
    const usable = current !== undefined && now < current.usableUntil;
    if (this.failure && now < this.failure.retryAt) {
      // Backing off: a still-valid token keeps serving; without one the remembered failure answers.
      if (usable) return current.value;
      throw this.remembered(this.failure, now);
    }
    const renewal = this.startRefresh(deadline);
    if (!usable) return renewal;
    // Early renewal: wait a little for the new token, but a working one is never thrown away.
    try {
      const renewed = await raceTimeout(renewal, Math.min(this.renewalWaitMs, current.usableUntil - now));
      return renewed ?? current.value;
    } catch {
      return this.current?.value ?? current.value;
    }
  }

  invalidate(token: string): void {
    if (this.current?.value === token) this.current = undefined;
  }

  private startRefresh(deadline: Deadline): Promise<string> {
    if (!this.inflight) {
      // Detached from the asking request's lifetime: every caller shares this token request, and one cut
      // short because its request ended would be remembered as a failure for all of them.
      const p = this.refresh(deadline.detached()).finally(() => {
        if (this.inflight === p) this.inflight = undefined;
      });
      // Callers may stop waiting (early renewal); the outcome is recorded either way.
      p.catch(() => {});
      this.inflight = p;
    }
    return this.inflight;
  }

  private async refresh(deadline: Deadline): Promise<string> {
    let fetched: FetchedToken;
    try {
      fetched = await this.fetchToken(deadline);
    } catch (err) {
      const consecutive = (this.failure?.consecutive ?? 0) + 1;
      const waitMs = this.backoffMs(err, consecutive);
      const failedAt = this.now();
      this.failure = { error: err, retryAt: failedAt + waitMs, consecutive };
      const servingCurrent = this.current !== undefined && failedAt < this.current.usableUntil;
      this.events.onFailure?.(err, waitMs, servingCurrent);
      throw this.remembered(this.failure, failedAt);
    }
    const lifetimeMs = Math.max(0, fetched.expiresInSec * 1000);
    const now = this.now();
    // Renew a fifth of the lifetime early (at most 5 minutes: a 1 h token renews 55 minutes in), which
    // leaves minutes of retries if the endpoint has a bad moment; use the token until a fiftieth of its
    // lifetime (at most 30 s) before expiry, so no call goes out with a token that expires in flight.
    const renewMargin = Math.min(300_000, lifetimeMs / 5);
    const expiryMargin = Math.min(30_000, lifetimeMs / 50);
    this.failure = undefined;
    this.events.onNewToken?.(fetched.accessToken);
    this.current = { value: fetched.accessToken, refreshAt: now + lifetimeMs - renewMargin, usableUntil: now + lifetimeMs - expiryMargin };
    return fetched.accessToken;
  }

  /** Exponential backoff with "equal jitter": between half and all of the ceiling, so a failure is always remembered a while. */
  private backoffMs(err: unknown, consecutive: number): number {
    const credentials = err instanceof UpstreamError && err.kind === "http" && (err.status === 400 || err.status === 401);
    const cap = credentials ? this.backoff.maxMs : Math.min(this.backoff.maxMs, this.backoff.maxTransientMs);
    const ceiling = Math.min(cap, this.backoff.baseMs * 2 ** Math.min(consecutive - 1, 30));
    return Math.ceil(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  /** The remembered failure as a fresh error for this caller, saying when the next token request goes. */
  private remembered(failure: NonNullable<TokenCache["failure"]>, now: number): Error {
    const retryAfter = Math.max(1, Math.ceil((failure.retryAt - now) / 1000));
    const e = failure.error;
    if (e instanceof UpstreamError) {
      return new UpstreamError(e.source, e.kind, `${e.message} (next token request in ${retryAfter} s)`, {
        phase: "token",
        status: e.status,
        upstreamCode: e.upstreamCode,
        upstreamRequestId: e.upstreamRequestId,
        retryAfter,
        cause: e,
      });
    }
    return e instanceof Error ? e : new Error(String(e));
  }
}

/** The promise's value, or undefined if it has not settled within `ms`. */
function raceTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  if (ms <= 0) return Promise.resolve(undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
