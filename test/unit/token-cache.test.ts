import { Deadline } from "../../src/upstream/deadline";
import { DEFAULT_TOKEN_BACKOFF, TokenCache, type FetchedToken } from "../../src/upstream/token-cache";
import { UpstreamError } from "../../src/upstream/upstream-error";

/** The token cache's backoff rule on an injected clock: exact, and no real waiting. */
function cacheWith(fail: () => UpstreamError | undefined, random: () => number) {
  let now = 1_000_000;
  const calls: number[] = [];
  const waits: number[] = [];
  const fetchToken = async (): Promise<FetchedToken> => {
    calls.push(now);
    const error = fail();
    if (error) throw error;
    return { accessToken: `token-${calls.length}`, expiresInSec: 3600 };
  };
  const cache = new TokenCache(
    fetchToken,
    { onFailure: (_err, retryInMs) => waits.push(retryInMs) },
    DEFAULT_TOKEN_BACKOFF,
    random,
    0,
    () => now,
  );
  return {
    cache,
    calls,
    waits,
    advance: (ms: number) => (now += ms),
    get now() {
      return now;
    },
  };
}

const outage = () => new UpstreamError("DEFENDER", "http", "DEFENDER token endpoint answered 503", { phase: "token", status: 503 });
const refused = () => new UpstreamError("DEFENDER", "http", "DEFENDER token endpoint answered 401", { phase: "token", status: 401 });

/** Asks for a token every `stepMs` until `untilMs` has passed, as a steady flow of queries and probes would. */
async function askEvery(t: ReturnType<typeof cacheWith>, stepMs: number, untilMs: number): Promise<number> {
  const end = t.now + untilMs;
  let asked = 0;
  while (t.now < end) {
    await Promise.allSettled([t.cache.getToken(new Deadline(3000)), t.cache.getToken(new Deadline(3000))]);
    asked += 2;
    t.advance(stepMs);
  }
  return asked;
}

describe("TokenCache backoff", () => {
  it("waits at most 4 s between token requests during an outage, and at least 2 s once it has lasted a few seconds", async () => {
    for (const r of [0, 0.5, 0.999]) {
      const t = cacheWith(outage, () => r);
      const asked = await askEvery(t, 50, 120_000);
      const gaps = t.calls.slice(1).map((at, i) => at - t.calls[i]!);
      // Before: the waits doubled to 30 s (15 to 30 s with the jitter): the outage's end went unnoticed that long.
      expect(Math.max(...t.waits)).toBeLessThanOrEqual(4_000);
      expect(Math.max(...gaps)).toBeLessThanOrEqual(4_000 + 50);
      // Equal jitter keeps every wait at least half its ceiling: 0.5, 1, then 2 s and more.
      expect(Math.min(...gaps.slice(2))).toBeGreaterThanOrEqual(2_000);
      // Thousands of callers in two minutes, at most one token request per 2 s (plus the first ones).
      expect(asked).toBeGreaterThan(4_000);
      expect(t.calls.length).toBeLessThanOrEqual(120 / 2 + 3);
    }
  });

  it("serves again within the capped wait once the token endpoint is back", async () => {
    let down = true;
    const t = cacheWith(() => (down ? outage() : undefined), Math.random);
    await askEvery(t, 50, 60_000);
    down = false;
    const backAt = t.now;
    let token: string | undefined;
    while (token === undefined) {
      token = await t.cache.getToken(new Deadline(3000)).catch(() => undefined);
      if (token === undefined) t.advance(50);
    }
    expect(t.now - backAt).toBeLessThanOrEqual(4_000);
    // The failure memory is gone with it: the next callers get the same token without a request.
    const calls = t.calls.length;
    expect(await t.cache.getToken(new Deadline(3000))).toBe(token);
    expect(t.calls.length).toBe(calls);
  });

  it("still backs off to 5 minutes when the credentials are refused (a rotated secret), so probes cannot lock the account", async () => {
    const t = cacheWith(refused, () => 0.999);
    await askEvery(t, 1_000, 30 * 60_000);
    expect(Math.max(...t.waits)).toBeGreaterThan(250_000);
    expect(Math.max(...t.waits)).toBeLessThanOrEqual(300_000);
    // 1 + 2 + 4 + … + 256 s, then 5 minutes apart: about a dozen logins in half an hour.
    expect(t.calls.length).toBeLessThanOrEqual(15);
  });

  it("shares one token request between concurrent callers while it is in flight", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let calls = 0;
    const cache = new TokenCache(async () => {
      calls++;
      await gate;
      return { accessToken: "shared-token", expiresInSec: 3600 };
    });
    const all = Promise.all(Array.from({ length: 100 }, () => cache.getToken(new Deadline(3000))));
    release();
    expect(new Set(await all)).toEqual(new Set(["shared-token"]));
    expect(calls).toBe(1);
  });
});
