import type { Deadline } from "./deadline";

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

/**
 * Caches a bearer token until shortly before it expires, and shares one in-flight token request between
 * every concurrent caller: a hundred parallel upstream calls at start-up cause one token request.
 */
export class TokenCache implements TokenSource {
  private current?: { value: string; refreshAt: number };
  private inflight?: Promise<string>;

  constructor(
    private readonly fetchToken: (deadline: Deadline) => Promise<FetchedToken>,
    private readonly onNewToken: (token: string) => void = () => {},
  ) {}

  getToken(deadline: Deadline): Promise<string> {
    if (this.current && Date.now() < this.current.refreshAt) return Promise.resolve(this.current.value);
    if (!this.inflight) {
      this.inflight = this.refresh(deadline).finally(() => {
        this.inflight = undefined;
      });
    }
    return this.inflight;
  }

  invalidate(token: string): void {
    if (this.current?.value === token) this.current = undefined;
  }

  private async refresh(deadline: Deadline): Promise<string> {
    const fetched = await this.fetchToken(deadline);
    const lifetimeMs = Math.max(0, fetched.expiresInSec * 1000);
    // Refresh a minute early (or a tenth of the lifetime for short-lived tokens) so no call goes out with
    // a token that expires in flight.
    const margin = Math.min(60_000, lifetimeMs / 10);
    this.onNewToken(fetched.accessToken);
    this.current = { value: fetched.accessToken, refreshAt: Date.now() + lifetimeMs - margin };
    return fetched.accessToken;
  }
}
