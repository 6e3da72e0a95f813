import { createHash } from "node:crypto";
import type Redis from "ioredis";
import { sleep, type Deadline } from "./deadline";
import { UpstreamError } from "./upstream-error";
import { reserveOf, type OutboundLimiter, type RateLimiter, type RateWindow, type Release } from "./rate-limiter";
import type { RedisLink } from "../store/redis-link";

/*
 * The vendors' limits are per app / per API user, so every replica must draw from one budget. The budget
 * is the same sliding-window log as the in-process limiter, kept in Redis sorted sets and decided by one
 * Lua script per call (atomic across replicas, all windows at once, on Redis's clock so replicas' clocks
 * do not matter):
 * - a call takes a slot scored "now + hold" while it is in flight (hold = the longest an attempt can take),
 *   so an in-flight call always counts;
 * - when it finishes, its score becomes the finishing time, and it ages out a window later. Timing slots
 *   from completion matters: the vendor counts arrivals, which lag our sends by the network delay;
 * - a 429's Retry-After is one key every replica's script checks before granting;
 * - the budget is shared fairly between callers across replicas: each slot is also kept in a per-caller
 *   set, a refused caller marks itself waiting for a few polls, and while others wait no caller gets more
 *   than an equal share of a window; past `limit − reserve` of a window a caller is paced (see ACQUIRE and
 *   `reserveOf`). Callers are digests of `Deadline.caller` (the principal), never the subject itself.
 * Why not a library's Redis limiter: rate-limiter-flexible's RateLimiterRedis (the obvious candidate) is a
 * fixed window with whole-second key TTLs. A fixed window lets 2×limit through around a window boundary
 * (a burst at the end of one window and another at the start of the next), cannot express sub-second
 * windows, and cannot re-time a slot at completion, so it would not keep ESET's 10/s or Defender's 100/min
 * as the vendors count them. The in-process limiter records every call Redis granted (a slot waiting on
 * Redis must not hold an in-process slot, or a caller would queue here behind another's waiting calls),
 * and is what remains when Redis is away.
 */

const NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * KEYS: pause key, waiting-callers key, then per window: the window's key, the caller's key for that
 * window, the window's pacing hash. ARGV: member, holdMs, caller, waitingTtlMs, "1" when more calls of the
 * caller wait behind this one, then limit, windowMs and reserve per window.
 * Fair share: callers refused a slot mark themselves waiting (for waitingTtlMs, renewed at each poll).
 * While others wait, a caller holding ceil(limit / callers waiting, itself included) of a window gets no
 * more of it, so freed slots go to the others. A caller holding limit − reserve of a window gets further
 * slots only one per windowMs / reserve (the pacing hash remembers the grant that brought it there or
 * the last one past it).
 */
const ACQUIRE = `${NOW_MS}
local wait = 0
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
if paused > now then wait = paused - now end
local caller = ARGV[3]
local waitingTtl = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local others = redis.call('ZCARD', KEYS[2])
if redis.call('ZSCORE', KEYS[2], caller) then others = others - 1 end
local n = (#KEYS - 2) / 3
local paced = {}
for i = 1, n do
  local key = KEYS[3 * i]
  local mineKey = KEYS[3 * i + 1]
  local paceKey = KEYS[3 * i + 2]
  local limit = tonumber(ARGV[3 + 3 * i])
  local win = tonumber(ARGV[4 + 3 * i])
  local reserve = tonumber(ARGV[5 + 3 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - win)
  redis.call('ZREMRANGEBYSCORE', mineKey, '-inf', now - win)
  local count = redis.call('ZCARD', key)
  local mine = redis.call('ZCARD', mineKey)
  local w = 0
  if count >= limit then
    local e = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    -- A call still in flight frees its slot a window after it finishes: at the earliest, a window from now.
    local s = tonumber(e[2])
    if s > now then s = now end
    w = s + win - now
  elseif others > 0 and mine >= math.ceil(limit / (others + 1)) then
    -- Over its share while others wait: ask again soon (they stop waiting once served).
    w = waitingTtl
  end
  if reserve > 0 and mine >= limit - reserve then
    local last = tonumber(redis.call('HGET', paceKey, caller) or '0')
    local nextAt = last + math.floor(win / reserve)
    if nextAt - now > w then w = nextAt - now end
  end
  -- This grant leaves the caller holding limit - reserve or more: its pace counts from now.
  if reserve > 0 and mine + 1 >= limit - reserve then paced[i] = true end
  if w > wait then wait = w end
end
if wait > 0 then
  redis.call('ZADD', KEYS[2], now + waitingTtl, caller)
  redis.call('PEXPIRE', KEYS[2], waitingTtl)
  return {0, math.ceil(wait)}
end
local hold = tonumber(ARGV[2])
-- Served: it stops counting as waiting unless more of its calls wait here (others renew their mark).
if ARGV[5] ~= '1' then redis.call('ZREM', KEYS[2], caller) end
for i = 1, n do
  local win = tonumber(ARGV[4 + 3 * i])
  for j = 0, 1 do
    redis.call('ZADD', KEYS[3 * i + j], now + hold, ARGV[1])
    redis.call('PEXPIRE', KEYS[3 * i + j], win + hold)
  end
  if paced[i] then
    redis.call('HSET', KEYS[3 * i + 2], caller, now)
    redis.call('PEXPIRE', KEYS[3 * i + 2], win)
  end
end
return {1, 0}`;

/** KEYS: the window keys and the caller's. ARGV: member, "1" when the call went out (re-time it), "0" when it did not (drop it). */
const RELEASE = `${NOW_MS}
for i = 1, #KEYS do
  if ARGV[2] == '1' then redis.call('ZADD', KEYS[i], 'XX', now, ARGV[1]) else redis.call('ZREM', KEYS[i], ARGV[1]) end
end
return 1`;

/** KEYS: pause key. ARGV: ms. Only ever extends a pause. */
const PAUSE = `${NOW_MS}
local ms = tonumber(ARGV[1])
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if now + ms > cur then redis.call('SET', KEYS[1], now + ms, 'PX', ms) end
return 1`;

/** The longest a refused caller sleeps before asking again. */
const POLL_MS = 100;
/** How long a refused caller counts as waiting: a few polls, so one that was served or gave up soon stops counting. */
const WAITING_TTL_MS = 3 * POLL_MS;

interface LimiterCommands {
  ugRateAcquire(numKeys: number, ...args: Array<string | number>): Promise<[number, number]>;
  ugRateRelease(numKeys: number, ...args: Array<string | number>): Promise<number>;
  ugRatePause(numKeys: number, ...args: Array<string | number>): Promise<number>;
}

function commands(client: Redis): LimiterCommands {
  const c = client as Redis & Partial<LimiterCommands>;
  if (c.ugRateAcquire === undefined) {
    client.defineCommand("ugRateAcquire", { lua: ACQUIRE });
    client.defineCommand("ugRateRelease", { lua: RELEASE });
    client.defineCommand("ugRatePause", { lua: PAUSE });
  }
  return client as unknown as LimiterCommands;
}

export interface SharedRateLimiterOptions {
  /** The in-process limiter: records what this replica sends, and is the whole limit while Redis is away. */
  local: RateLimiter;
  link: RedisLink;
  windows: readonly RateWindow[];
  /** Names this budget in Redis: source plus a fingerprint of the credentials the vendor counts against. */
  budget: string;
  /** The longest one attempt can be in flight (its slot counts at least that long unless released). */
  holdMs: number;
  /** Told how long each granted call waited in all, for metrics. */
  onWait?: (ms: number) => void;
}

/** One source's outbound limit shared by every replica on the same Redis (see the comment at the top). */
export class SharedRateLimiter implements OutboundLimiter {
  private readonly redis: LimiterCommands;
  private readonly pauseKey: string;
  private readonly waitingKey: string;
  private readonly windowKeys: string[];
  private readonly windowArgs: number[];
  private seq = 0;
  /** Per caller, the calls of it waiting on this replica: only the head of a line polls Redis. */
  private readonly lines = new Map<string, { length: number; tail: Promise<void> }>();
  private waiting = 0;

  constructor(private readonly options: SharedRateLimiterOptions) {
    this.redis = commands(options.link.client);
    const base = `${options.link.prefix}rl:${options.budget}:`;
    this.pauseKey = `${base}pause`;
    this.waitingKey = `${base}waiting`;
    this.windowKeys = options.windows.map((w) => `${base}${w.limit}/${w.windowMs}ms`);
    this.windowArgs = options.windows.flatMap((w) => [w.limit, w.windowMs, reserveOf(w)]);
  }

  get queueDepth(): number {
    return this.options.local.queueDepth + this.waiting;
  }

  /**
   * Every call first asks Redis once. A call refused there joins its caller's line on this replica, whose
   * head alone polls Redis (so a replica polls once per waiting caller, not once per waiting call, and a
   * caller's calls go in order). Once Redis grants the slot, the in-process limiter records the call too:
   * it is the whole limit while Redis is away.
   */
  async acquire(deadline: Deadline): Promise<Release> {
    const { local, link } = this.options;
    const started = Date.now();
    if (this.windowKeys.length === 0 || !link.available) return this.granted(started, await local.acquire(deadline));
    const member = `${link.replicaId}:${++this.seq}`;
    // Callers are named in keys by a digest: a JWT subject may be long or contain anything.
    const caller = createHash("sha256").update(deadline.caller ?? "").digest("base64url").slice(0, 16);
    const keys = [this.pauseKey, this.waitingKey, ...this.windowKeys.flatMap((k) => [k, `${k}:c:${caller}`, `${k}:pace`])];
    const ask = async (): Promise<number> => {
      const more = (this.lines.get(caller)?.length ?? 0) > 1 ? "1" : "0";
      const [ok, waitMs] = await this.redis.ugRateAcquire(keys.length, ...keys, member, this.options.holdMs, caller, WAITING_TTL_MS, more, ...this.windowArgs);
      return ok === 1 ? 0 : Math.max(1, waitMs);
    };
    let wait: number;
    try {
      wait = this.lines.has(caller) ? 1 : await ask();
      if (wait > 0) {
        if (wait >= deadline.remaining()) throw local.refusal(wait);
        wait = await this.inLine(caller, deadline, ask);
      }
    } catch (err) {
      if (err instanceof UpstreamError) throw err;
      link.noteFailure("rate limiter", err);
      return this.granted(started, await local.acquire(deadline));
    }
    if (wait < 0) return this.granted(started, await local.acquire(deadline)); // Redis went away meanwhile
    const slotKeys = this.windowKeys.flatMap((k) => [k, `${k}:c:${caller}`]);
    const releaseShared = (sent: boolean) =>
      this.redis.ugRateRelease(slotKeys.length, ...slotKeys, member, sent ? "1" : "0").catch((err: unknown) => {
        // The slot then ages out from its in-flight score: later than needed, never too early.
        link.noteFailure("rate limiter release", err);
      });
    let release: Release;
    try {
      release = await local.acquire(deadline);
    } catch (err) {
      void releaseShared(false);
      throw err;
    }
    return this.granted(started, (sent = true) => {
      release(sent);
      void releaseShared(sent);
    });
  }

  /**
   * Waits for this call's turn in its caller's line, then polls Redis until granted (0), Redis goes away
   * (−1), or no slot can come before the deadline (throws the refusal).
   */
  private async inLine(caller: string, deadline: Deadline, ask: () => Promise<number>): Promise<number> {
    const line = this.lines.get(caller) ?? { length: 0, tail: Promise.resolve() };
    this.lines.set(caller, line);
    const before = line.tail;
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    line.tail = before.then(() => mine);
    line.length++;
    this.waiting++;
    try {
      let timer: NodeJS.Timeout | undefined;
      const late = await Promise.race([
        before.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), deadline.remaining()))),
      ]);
      clearTimeout(timer);
      if (late) throw this.options.local.refusal(1_000);
      for (;;) {
        if (!this.options.link.available) return -1;
        const wait = await ask();
        if (wait === 0) return 0;
        if (wait >= deadline.remaining()) throw this.options.local.refusal(wait);
        // Poll rather than trust the estimate: slots of calls in flight free up earlier than their hold.
        await sleep(Math.min(wait, POLL_MS) + Math.random() * 10);
      }
    } finally {
      done();
      this.waiting--;
      if (--line.length === 0) this.lines.delete(caller);
    }
  }

  pauseFor(ms: number): void {
    this.options.local.pauseFor(ms);
    if (!this.options.link.available) return;
    this.redis.ugRatePause(1, this.pauseKey, Math.ceil(ms)).catch((err: unknown) => this.options.link.noteFailure("rate limiter pause", err));
  }

  close(): void {
    this.options.local.close();
  }

  private granted(started: number, release: Release): Release {
    this.options.onWait?.(Date.now() - started);
    return release;
  }
}
