import { createHash } from "node:crypto";
import type Redis from "ioredis";
import type { Deadline } from "./deadline";
import {
  DEFAULT_CALLER_SHARE,
  resumePace,
  sharesOf,
  type DetachedPart,
  type OutboundLimiter,
  type RateLimiter,
  type RateWindow,
  type Release,
} from "./rate-limiter";
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
 * - a 429's Retry-After is one key every replica's script checks before granting, and the fleet resumes
 *   at the pace of the shortest window when it ends;
 * - the budget is shared fairly between callers across replicas: each slot is also kept in a per-caller
 *   set, the fleet's queue says who waits where, and while others wait no caller gets more than an equal
 *   share of a window; no caller holds more than its cap of a window, and the window's reserve goes only
 *   to newcomers, a ration each (see ACQUIRE and `sharesOf`).
 *   Callers are digests of `Deadline.caller` (the principal), never the subject itself;
 * - a call's expected wait sees the fleet's whole queue, so over the quota it is refused at once;
 * - a script carries when its caller gives up on it (on Redis's clock): one that ran later, having sat in
 *   a stalled Redis, reserves nothing. While Redis is known to be stalled, calls go on in process at once.
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
 * KEYS: [1] the pause key (when the last 429's pause ends; kept through the resume pace after it), [2] the
 * fleet's queue (a hash, see below), [3] the calls granted since the pause ended, then per window: the
 * window's key and the caller's key for that window.
 * ARGV: [1] member, [2] holdMs, [3] caller, [4] replica, [5] POLL_MS, [6] role: "new" (a call of a caller
 * with no line on this replica: may take a slot), "head" (the head of its caller's line here: may take a
 * slot), "queued" (a call joining its caller's line: where does it stand?), [7] the caller's calls ahead of
 * this one on this replica, [8] the caller's calls waiting on this replica counting this one, [9] since when
 * the head of this line waits (Redis's clock; 0 for a new call: now), [10] the caller's remaining deadline
 * (ms), [11] when the caller gives up on this command, on Redis's clock (0: unknown), [12] and [13] the
 * resume pace after a pause (limit, windowMs), then limit, windowMs, cap, reserve and ration per window.
 * Returns {status, ms, now}: status 1 granted; 0 wait (ms until a slot may free); 2 refused, its turn cannot
 * come before its deadline (ms: the expected wait); 3 the caller gave up before the script ran, nothing done.
 *
 * - A script that ran after its caller gave up (it sat in a stalled Redis, say) reserves nothing: the
 *   caller has gone on in process, and a slot taken now would be held for `hold` by nobody.
 * - The fleet's queue: per caller and replica ("caller|replica"), "expires|waiting|held|since": how many of
 *   the caller's calls wait on that replica, how many slots of the first window the caller held, and since
 *   when the head of that line waits. Every ask writes its line's entry; a line's head renews it at each
 *   poll, and an entry not renewed for a few polls (a line that emptied, a replica that died) is dropped.
 * - A caller's calls are served first come, first served across the fleet: a head gets a free slot only
 *   when no other replica's line of the same caller has waited longer (that head takes it at its next poll).
 * - A call's place in the fleet's queue counts the calls that go before it: its caller's calls that came
 *   first (here and on the other replicas), and other callers' waiting calls while they hold fewer slots
 *   than this caller would (fair shares, as in process). Its expected wait (the in-process `waitFor`) sees
 *   the whole fleet's backlog, not just the next free slot: a call whose turn cannot come before its
 *   deadline is refused at once.
 * - Fair share between callers: while others wait, a caller holding ceil(limit / callers waiting, itself
 *   included) of a window gets no more of it, so freed slots go to the others. Whoever waits, a caller
 *   holding its cap of a window gets no more of it, and one holding its ration or more gets none of the
 *   window's last `reserve` slots (the in-process rules, `sharesOf`, fleet-wide).
 * - After a 429's pause the fleet resumes at the pace of the shortest window (see `resumePace`).
 */
const ACQUIRE = `${NOW_MS}
local giveUpAt = tonumber(ARGV[11])
if giveUpAt > 0 and now > giveUpAt then return {3, 0, now} end
local caller = ARGV[3]
local me = caller .. '|' .. ARGV[4]
local pollMs = tonumber(ARGV[5])
local queueTtl = 3 * pollMs
local role = ARGV[6]
local ahead = tonumber(ARGV[7])
local queuedHere = tonumber(ARGV[8])
local since = tonumber(ARGV[9])
if since <= 0 then since = now end
local remaining = tonumber(ARGV[10])
local n = (#KEYS - 3) / 2
local others, ownBefore, olderLines = 0, 0, 0
local queuedOf, heldOf = {}, {}
local entries = redis.call('HGETALL', KEYS[2])
for j = 1, #entries, 2 do
  local field = entries[j]
  local exp, q, h, s = string.match(entries[j + 1], '^(%d+)|(%d+)|(%d+)|(%d+)$')
  if exp == nil or tonumber(exp) <= now then
    redis.call('HDEL', KEYS[2], field)
  elseif field ~= me then
    q = tonumber(q)
    local c = string.match(field, '^(.*)|')
    if c == caller then
      -- Another replica's line of this caller: all of it came before a new or joining call; of a head's
      -- view, that line's head when it has waited longer (its later calls are behind this head).
      if role ~= 'head' then
        ownBefore = ownBefore + q
        olderLines = olderLines + 1
      elseif tonumber(s) < since then
        ownBefore = ownBefore + 1
        olderLines = olderLines + 1
      end
    else
      if queuedOf[c] == nil then
        others = others + 1
        queuedOf[c] = 0
        heldOf[c] = 0
      end
      queuedOf[c] = queuedOf[c] + q
      heldOf[c] = math.max(heldOf[c], tonumber(h))
    end
  end
end
local counts, mines = {}, {}
for i = 1, n do
  local win = tonumber(ARGV[10 + 5 * i])
  redis.call('ZREMRANGEBYSCORE', KEYS[2 * i + 2], '-inf', now - win)
  redis.call('ZREMRANGEBYSCORE', KEYS[2 * i + 3], '-inf', now - win)
  counts[i] = redis.call('ZCARD', KEYS[2 * i + 2])
  mines[i] = redis.call('ZCARD', KEYS[2 * i + 3])
end
local held = mines[1] or 0
local own = ahead + ownBefore
local position = own
for c, q in pairs(queuedOf) do
  local first = held + position + 1 - heldOf[c]
  if first > 0 then position = position + math.min(q, first) end
end
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
local paceLimit = tonumber(ARGV[12])
local paceWin = tonumber(ARGV[13])
local ramp = paceLimit > 0 and paused > 0 and now < paused + paceWin
local resumed = 0
if ramp and now >= paused then resumed = tonumber(redis.call('GET', KEYS[3]) or '0') end
-- How long until the call p places behind the next granted one, o of them the caller's own, could go
-- (the in-process waitFor).
local function waitAt(p, o, taking)
  local wait = 0
  if paused > now then wait = paused - now end
  if ramp then wait = math.max(wait, paused + (resumed + p) * paceWin / paceLimit - now) end
  for i = 1, n do
    local limit = tonumber(ARGV[9 + 5 * i])
    local win = tonumber(ARGV[10 + 5 * i])
    local cap = tonumber(ARGV[11 + 5 * i])
    local reserve = tonumber(ARGV[12 + 5 * i])
    local ration = tonumber(ARGV[13 + 5 * i])
    -- A newcomer (holding less than its ration) may use the reserve; everyone else stops short of it.
    local open = limit - reserve
    if mines[i] + o < ration then open = limit end
    local free = open - counts[i]
    local w = 0
    if p >= free then
      local per = math.max(1, open)
      local k = p - free
      local idx = k % per
      -- A call still in flight frees its slot a window after it finishes: at the earliest, a window from now.
      local base = now
      if idx < counts[i] then
        local e = redis.call('ZRANGE', KEYS[2 * i + 2], idx, idx, 'WITHSCORES')
        base = math.min(tonumber(e[2]), now)
      end
      -- Each round of the window also waits for a head's next poll to notice its freed slots.
      w = base + (win + pollMs) * (math.floor(k / per) + 1) - now
    elseif taking and others > 0 and mines[i] >= math.ceil(limit / (others + 1)) then
      -- Over its share while others wait: ask again soon (they stop waiting once served).
      w = queueTtl
    end
    -- The caller's cap: its own oldest slots must age out first.
    local over = mines[i] + o - cap
    if over >= 0 then
      local idx = over % cap
      local base = now
      if idx < mines[i] then
        local e = redis.call('ZRANGE', KEYS[2 * i + 3], idx, idx, 'WITHSCORES')
        base = math.min(tonumber(e[2]), now)
      end
      w = math.max(w, base + (win + pollMs) * (math.floor(over / cap) + 1) - now)
    end
    if w > wait then wait = w end
  end
  return wait
end
local function queued(q)
  if q <= 0 then
    redis.call('HDEL', KEYS[2], me)
  else
    redis.call('HSET', KEYS[2], me, (now + queueTtl) .. '|' .. q .. '|' .. held .. '|' .. since)
    redis.call('PEXPIRE', KEYS[2], queueTtl)
  end
end
local wait = waitAt(0, 0, true)
if role ~= 'queued' and wait <= 0 then
  if olderLines > 0 then
    -- A slot is free, but another replica's line of this caller came first: its head takes it.
    wait = math.floor(pollMs / 5)
  else
    local hold = tonumber(ARGV[2])
    for i = 1, n do
      local win = tonumber(ARGV[10 + 5 * i])
      for j = 2, 3 do
        redis.call('ZADD', KEYS[2 * i + j], now + hold, ARGV[1])
        redis.call('PEXPIRE', KEYS[2 * i + j], win + hold)
      end
    end
    if ramp and now >= paused then
      redis.call('INCR', KEYS[3])
      redis.call('PEXPIRE', KEYS[3], paused + paceWin - now + 1000)
    end
    queued(queuedHere - 1)
    return {1, 0, now}
  end
end
local expected = math.max(wait, waitAt(position, own, false))
if expected >= remaining then
  queued(queuedHere - 1)
  return {2, math.ceil(expected), now}
end
queued(queuedHere)
return {0, math.max(1, math.ceil(wait)), now}`;

/**
 * KEYS: the window keys and the caller's. ARGV: member, "1" when the call went out (re-time it), "0" when it
 * did not (drop it), when the call finished on Redis's clock (0: unknown).
 * A release that sat in a stalled Redis times the slot from when the call finished (a second later, for the
 * clock estimate), not from when Redis got round to it: after a long stall, from now would hold the budget
 * for a window after Redis came back.
 */
const RELEASE = `${NOW_MS}
local at = now
local finished = tonumber(ARGV[3])
if finished > 0 and finished + 1000 < now then at = finished + 1000 end
for i = 1, #KEYS do
  if ARGV[2] == '1' then redis.call('ZADD', KEYS[i], 'XX', at, ARGV[1]) else redis.call('ZREM', KEYS[i], ARGV[1]) end
end
return 1`;

/**
 * KEYS: pause key, resumed counter. ARGV: ms, the resume pace's windowMs, when the pause ends on Redis's
 * clock (0: unknown, now + ms). Only ever extends a pause; a pause that ended while it sat in a stalled
 * Redis does nothing. The key outlives the pause by the resume pace's window, so the fleet resumes at pace.
 */
const PAUSE = `${NOW_MS}
local untilMs = tonumber(ARGV[3])
if untilMs <= 0 then untilMs = now + tonumber(ARGV[1]) end
if untilMs <= now then return 0 end
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilMs > cur then
  redis.call('SET', KEYS[1], untilMs, 'PX', untilMs - now + tonumber(ARGV[2]))
  redis.call('DEL', KEYS[2])
end
return 1`;

/**
 * KEYS: the window keys. ARGV: their windowMs. Returns Redis's now, then per window the calls finished in
 * each tenth of the window (oldest first), the calls in flight and the latest in-flight score: what a replica
 * counts as the fleet's calls should Redis go away (see `DetachedPart`).
 */
const SNAPSHOT = `${NOW_MS}
local out = {now}
for i = 1, #KEYS do
  local win = tonumber(ARGV[i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - win)
  for b = 1, 10 do
    local lo = now - win + math.floor((b - 1) * win / 10)
    local hi = now - win + math.floor(b * win / 10)
    out[#out + 1] = redis.call('ZCOUNT', KEYS[i], '(' .. lo, hi)
  end
  out[#out + 1] = redis.call('ZCOUNT', KEYS[i], '(' .. now, '+inf')
  local last = redis.call('ZRANGE', KEYS[i], -1, -1, 'WITHSCORES')
  out[#out + 1] = math.max(now, tonumber(last[2] or now))
end
return out`;

/**
 * KEYS: the window keys. ARGV: [1] a member prefix, [2] holdMs, [3] the calls in flight, then per window its
 * windowMs and this replica's calls in it, "caller=at,at;caller=at" (Redis's clock; callers as digests).
 * Adds them to the window and to each caller's set (named from the window key, as ACQUIRE's KEYS name
 * them), and the calls in flight as held for `holdMs`: a replica back on Redis puts there what it spent
 * while away (all of its calls in the windows when Redis lost them).
 */
const RESEED = `${NOW_MS}
local n = 0
local hold = tonumber(ARGV[2])
local inFlight = tonumber(ARGV[3])
for i = 1, #KEYS do
  local win = tonumber(ARGV[2 + 2 * i])
  for caller, times in string.gmatch(ARGV[3 + 2 * i], '([^=;]+)=([^;]*)') do
    for at in string.gmatch(times, '[^,]+') do
      n = n + 1
      local member = ARGV[1] .. ':' .. n
      redis.call('ZADD', KEYS[i], tonumber(at), member)
      redis.call('ZADD', KEYS[i] .. ':c:' .. caller, tonumber(at), member)
      redis.call('PEXPIRE', KEYS[i] .. ':c:' .. caller, win + hold)
    end
  end
  for j = 1, inFlight do
    redis.call('ZADD', KEYS[i], now + hold, ARGV[1] .. ':f' .. j)
  end
  redis.call('PEXPIRE', KEYS[i], win + hold)
end
return n`;

/** The longest a refused caller sleeps before asking again. */
const POLL_MS = 100;
/** How often a replica reads the fleet's windows, to know what they hold should Redis go away. */
const SNAPSHOT_MS = 1_000;
/**
 * Back on a Redis that lost its data, a replica keeps to its part for this long as well: the other replicas
 * may not be back yet, and until each has re-seeded what it spent, Redis's count is short of it.
 * Reconnecting takes at most 2 s after Redis is back (RedisLink's backoff) plus the membership's answer.
 */
const REJOIN_MS = 5_000;

/** What one ask of Redis came to. */
type Answer = { kind: "granted" } | { kind: "wait"; ms: number; at: number } | { kind: "refused"; ms: number } | { kind: "local" };
/** How a call asks (see ACQUIRE's ARGV). */
type Role = "new" | "head" | "queued";
type Ask = (role: Role, ahead: number, queuedHere: number, since: number) => Promise<Answer>;

interface LimiterCommands {
  ugRateAcquire(numKeys: number, ...args: Array<string | number>): Promise<[number, number, number]>;
  ugRateRelease(numKeys: number, ...args: Array<string | number>): Promise<number>;
  ugRatePause(numKeys: number, ...args: Array<string | number>): Promise<number>;
  ugRateSnapshot(numKeys: number, ...args: Array<string | number>): Promise<Array<number | string>>;
  ugRateReseed(numKeys: number, ...args: Array<string | number>): Promise<number>;
}

function commands(client: Redis): LimiterCommands {
  const c = client as Redis & Partial<LimiterCommands>;
  if (c.ugRateAcquire === undefined) {
    client.defineCommand("ugRateAcquire", { lua: ACQUIRE });
    client.defineCommand("ugRateRelease", { lua: RELEASE });
    client.defineCommand("ugRatePause", { lua: PAUSE });
    client.defineCommand("ugRateSnapshot", { lua: SNAPSHOT });
    client.defineCommand("ugRateReseed", { lua: RESEED });
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
  /** The share of each window one caller may hold across the fleet (RATE_LIMIT_CALLER_SHARE, 0–1). */
  share?: number;
}

/** Callers are named in keys by a digest: a JWT subject may be long or contain anything. */
function callerDigest(caller: string): string {
  return createHash("sha256").update(caller).digest("base64url").slice(0, 16);
}

/** One source's outbound limit shared by every replica on the same Redis (see the comment at the top). */
export class SharedRateLimiter implements OutboundLimiter {
  private readonly redis: LimiterCommands;
  private readonly pauseKey: string;
  private readonly queueKey: string;
  private readonly resumedKey: string;
  private readonly windowKeys: string[];
  private readonly windowArgs: number[];
  private readonly paceArgs: [number, number];
  private seq = 0;
  /** The fleet's windows as last read (this replica's clock), and when. */
  private baseline: DetachedPart["baseline"];
  private baselineAt: number;
  /** This replica's part while Redis is away (and for REJOIN_MS after), else undefined. */
  private part?: DetachedPart;
  private readonly snapshots: NodeJS.Timeout;
  private readonly unwatch: () => void;
  /** Per caller, the calls of it waiting on this replica: only the head of a line polls Redis. */
  private readonly lines = new Map<string, { length: number; tail: Promise<void>; headSince: number }>();
  private waiting = 0;

  constructor(private readonly options: SharedRateLimiterOptions) {
    this.redis = commands(options.link.client);
    const base = `${options.link.prefix}rl:${options.budget}:`;
    this.pauseKey = `${base}pause`;
    this.queueKey = `${base}queue`;
    this.resumedKey = `${base}resumed`;
    this.windowKeys = options.windows.map((w) => `${base}${w.limit}/${w.windowMs}ms`);
    this.windowArgs = options.windows.flatMap((w) => {
      const { cap, reserve, ration } = sharesOf(w, options.share ?? DEFAULT_CALLER_SHARE);
      return [w.limit, w.windowMs, cap, reserve, ration];
    });
    const pace = resumePace(options.windows);
    this.paceArgs = pace ? [pace.limit, pace.windowMs] : [0, 0];
    this.baseline = options.windows.map(() => []);
    this.baselineAt = Date.now();
    this.unwatch = options.link.watch({ down: () => this.detach(), up: (lost) => this.rejoin(lost) });
    this.snapshots = setInterval(() => this.snapshot(), SNAPSHOT_MS);
    this.snapshots.unref();
    if (options.link.available) this.snapshot();
  }

  /**
   * Redis went away: every replica falls back to its in-process limiter, so each takes its part only, the
   * limit divided by the fleet's last known size, counting the fleet's calls as last read (see
   * `DetachedPart`): together they stay within the vendor's limit, where each used to take a whole limit.
   */
  private detach(): void {
    if (this.windowKeys.length === 0) return;
    const { local, link } = this.options;
    this.part = { divisor: link.fleetSize, since: this.baselineAt, baseline: this.baseline, until: Infinity };
    local.setPart(this.part);
  }

  /**
   * Back on Redis: first put there what this replica spent while away (everything it counts, when Redis lost
   * its data), on the same connection as, and so before, any ACQUIRE; when Redis lost its data, keep to the
   * part for REJOIN_MS more, while the other replicas come back and do the same.
   */
  private rejoin(lost: boolean): void {
    const part = this.part;
    if (this.windowKeys.length === 0 || (part === undefined && !lost)) return;
    const { local, link } = this.options;
    const redisNow = link.redisNow();
    const offset = redisNow === undefined ? 0 : redisNow - Date.now();
    const since = lost ? -Infinity : (part?.since ?? Date.now());
    const digests = new Map<string, string>();
    let inFlight = 0;
    const perWindow = local.entries().flatMap((w, i) => {
      inFlight = w.inFlight;
      const byCaller = new Map<string, number[]>();
      for (const e of w.finished) {
        if (e.at < since) continue;
        let digest = digests.get(e.caller);
        if (digest === undefined) digests.set(e.caller, (digest = callerDigest(e.caller)));
        const times = byCaller.get(digest) ?? [];
        times.push(Math.floor(e.at + offset));
        byCaller.set(digest, times);
      }
      return [this.options.windows[i]!.windowMs, [...byCaller].map(([c, times]) => `${c}=${times.join(",")}`).join(";")];
    });
    this.redis
      .ugRateReseed(
        this.windowKeys.length,
        ...this.windowKeys,
        `${link.replicaId}:seed${++this.seq}`,
        this.options.holdMs,
        inFlight,
        ...perWindow,
      )
      .catch((err: unknown) => link.noteFailure("rate limiter re-seed", err));
    // Only when Redis lost its data: then it holds nothing of the others until they are back too. When it kept
    // it (a stall, a short partition) it knew all but what each replica spent while away, which each puts back
    // as it returns; holding to the part then would cost a replica that merely looked stalled (a busy event
    // loop) most of the budget for seconds.
    this.part = lost
      ? { ...(part ?? { divisor: link.fleetSize, since: this.baselineAt, baseline: this.baseline }), until: Date.now() + REJOIN_MS }
      : undefined;
    local.setPart(this.part);
    this.snapshot();
  }

  /** Reads the fleet's windows (see SNAPSHOT), for the part this replica takes should Redis go away. */
  private snapshot(): void {
    const { link, windows } = this.options;
    if (windows.length === 0 || !link.available) return;
    const sentAt = Date.now();
    this.redis
      .ugRateSnapshot(this.windowKeys.length, ...this.windowKeys, ...windows.map((w) => w.windowMs))
      .then((out) => {
        // Redis's clock to ours, erring late (calls then count longer): its now as of the answer's arrival.
        const offset = Number(out[0]) - Date.now();
        this.baseline = windows.map((w, i) => {
          const at = 1 + i * 12;
          const buckets = Array.from({ length: 10 }, (_, b) => ({
            // A bucket's calls counted as late as they may have been: its end.
            at: Number(out[0]) - w.windowMs + Math.floor(((b + 1) * w.windowMs) / 10) - offset,
            count: Number(out[at + b]),
          }));
          // Calls in flight finish by the latest score, at the latest.
          buckets.push({ at: Number(out[at + 11]) - offset, count: Number(out[at + 10]) });
          return buckets.filter((b) => b.count > 0);
        });
        // This replica's calls finished since the question may be missing from the answer: its own from then on.
        this.baselineAt = sentAt;
      })
      .catch((err: unknown) => link.noteFailure("rate limiter snapshot", err));
  }

  get queueDepth(): number {
    return this.options.local.queueDepth + this.waiting;
  }

  /**
   * A call of a caller with no line on this replica asks Redis at once. A call refused there, or arriving
   * while its caller has a line here, joins the line, whose head alone polls Redis (so a replica polls once
   * per waiting caller, not once per waiting call, and a caller's calls go in order); a call joining a line
   * asks once where it stands in the fleet's queue, and is refused at once when its turn cannot come before
   * its deadline. Once Redis grants the slot, the in-process limiter records the call too: it is the whole
   * limit while Redis is away (or stalled, or too slow to answer).
   */
  async acquire(deadline: Deadline): Promise<Release> {
    const { local, link } = this.options;
    const started = Date.now();
    if (this.windowKeys.length === 0) return this.granted(started, await local.acquire(deadline));
    if (!link.available) return this.away(deadline, started);
    const member = `${link.replicaId}:${++this.seq}`;
    const caller = callerDigest(deadline.caller ?? "");
    const keys = [this.pauseKey, this.queueKey, this.resumedKey, ...this.windowKeys.flatMap((k) => [k, `${k}:c:${caller}`])];
    const ask: Ask = (role, ahead, queuedHere, since) => this.ask({ keys, member, caller, role, ahead, queuedHere, since, deadline });
    let answer: Answer;
    try {
      if (this.lines.has(caller)) answer = await this.inLine(caller, deadline, ask);
      else {
        answer = await ask("new", 0, 1, 0);
        if (answer.kind === "wait") answer = await this.inLine(caller, deadline, ask, answer);
      }
    } catch (err) {
      link.noteFailure("rate limiter", err);
      this.forget(caller, member);
      return link.available ? this.granted(started, await local.acquire(deadline)) : this.away(deadline, started);
    }
    if (answer.kind === "refused") throw local.refusal(answer.ms);
    if (answer.kind !== "granted") return this.away(deadline, started); // Redis went away meanwhile
    const slotKeys = this.windowKeys.flatMap((k) => [k, `${k}:c:${caller}`]);
    const releaseShared = (sent: boolean) => {
      const finishedAt = link.redisNow();
      this.redis
        .ugRateRelease(slotKeys.length, ...slotKeys, member, sent ? "1" : "0", finishedAt === undefined ? 0 : Math.floor(finishedAt))
        .catch((err: unknown) => {
          // The slot then ages out from its in-flight score: later than needed, never too early.
          link.noteFailure("rate limiter release", err);
        });
    };
    let release: Release;
    try {
      release = await local.acquire(deadline);
    } catch (err) {
      releaseShared(false);
      throw err;
    }
    return this.granted(started, (sent = true) => {
      release(sent);
      releaseShared(sent);
    });
  }

  /**
   * A call while Redis is away: this replica's part, in process (see `detach`). One that waited there until
   * Redis came back gives its slot back and asks Redis too: Redis must count every call once it is back,
   * or what waited through the outage would go out on top of what Redis grants.
   */
  private async away(deadline: Deadline, started: number): Promise<Release> {
    const release = await this.options.local.acquire(deadline);
    if (!this.options.link.available) return this.granted(started, release);
    release(false);
    return this.acquire(deadline);
  }

  /**
   * One run of ACQUIRE. Stops waiting (throws) when the link goes down meanwhile, rather than paying the
   * command's timeout: requests go on in process at once while Redis is known to be stalled.
   */
  private async ask(a: {
    keys: string[];
    member: string;
    caller: string;
    role: Role;
    ahead: number;
    queuedHere: number;
    since: number;
    deadline: Deadline;
  }): Promise<Answer> {
    const { link } = this.options;
    // When this caller stops waiting for the answer (the command timeout), on Redis's clock: a script that
    // runs later (it sat in a stalled Redis) reserves nothing, since nobody would use or release the slot.
    const redisNow = link.redisNow();
    const giveUpAt = redisNow === undefined ? 0 : Math.floor(redisNow + link.commandTimeoutMs);
    const reply = this.redis.ugRateAcquire(
      a.keys.length,
      ...a.keys,
      a.member,
      this.options.holdMs,
      a.caller,
      link.replicaId,
      POLL_MS,
      a.role,
      a.ahead,
      a.queuedHere,
      a.since,
      Math.floor(a.deadline.remaining()),
      giveUpAt,
      ...this.paceArgs,
      ...this.windowArgs,
    );
    const [status, ms, at] = await new Promise<[number, number, number]>((resolve, reject) => {
      const stop = link.onDown(() => reject(new Error("redis went down while the rate limiter waited for it")));
      reply.then(resolve, reject).finally(stop);
    });
    if (status === 1) return { kind: "granted" };
    if (status === 2) return { kind: "refused", ms };
    if (status === 3) return { kind: "local" };
    return { kind: "wait", ms: Math.max(1, ms), at };
  }

  /**
   * Drops the member's slot should its ACQUIRE still run: after a timeout or a stall the script may be
   * waiting in Redis's input, and the release, sent on the same connection, runs right after it.
   */
  private forget(caller: string, member: string): void {
    const slotKeys = this.windowKeys.flatMap((k) => [k, `${k}:c:${caller}`]);
    this.redis.ugRateRelease(slotKeys.length, ...slotKeys, member, "0", 0).catch(() => {
      // Not connected: then the ACQUIRE was never read either (or its connection's input is gone).
    });
  }

  /**
   * Joins the caller's line on this replica. A call that found the line asks once where it stands (refused
   * at once when its turn cannot come before its deadline); then it waits for its turn, and as the head polls
   * Redis until granted, refused (no slot before the deadline), or Redis goes away (local).
   */
  private async inLine(caller: string, deadline: Deadline, ask: Ask, first?: Answer & { kind: "wait" }): Promise<Answer> {
    const line = this.lines.get(caller) ?? { length: 0, tail: Promise.resolve(), headSince: 0 };
    this.lines.set(caller, line);
    const ahead = line.length;
    const before = line.tail;
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    line.tail = before.then(() => mine);
    line.length++;
    this.waiting++;
    try {
      const entry = first ?? (await ask("queued", ahead, line.length, line.headSince));
      if (entry.kind !== "wait") return entry;
      // Its turn, or the end of the request's lifetime (its deadline, or its answer was sent), whichever first.
      const signal = deadline.signal;
      let leave: (() => void) | undefined;
      const late = await Promise.race([
        before.then(() => false),
        new Promise<boolean>((resolve) => {
          leave = () => resolve(true);
          signal.addEventListener("abort", leave);
        }),
      ]);
      signal.removeEventListener("abort", leave!);
      if (late || deadline.expired()) return { kind: "refused", ms: 1_000 };
      // This call's place among the caller's lines on other replicas: when it first asked.
      line.headSince = entry.at;
      for (;;) {
        if (!this.options.link.available) return { kind: "local" };
        const answer = await ask("head", 0, line.length, entry.at);
        if (answer.kind !== "wait") return answer;
        // Poll rather than trust the estimate: slots of calls in flight free up earlier than their hold.
        // A lifetime that ends during the pause is a caller who got no slot in time: RATE_LIMITED with the
        // expected wait, as everywhere else in the limiter, not the timeout of a vendor call never sent.
        const ended = await deadline.wait(Math.min(answer.ms, POLL_MS) + Math.random() * 10).then(
          () => false,
          () => true,
        );
        if (ended || deadline.expired()) return { kind: "refused", ms: answer.ms };
      }
    } finally {
      done();
      this.waiting--;
      if (--line.length === 0) this.lines.delete(caller);
    }
  }

  pauseFor(ms: number): void {
    const { local, link } = this.options;
    local.pauseFor(ms);
    if (!link.available) return;
    const now = link.redisNow();
    this.redis
      .ugRatePause(2, this.pauseKey, this.resumedKey, Math.ceil(ms), this.paceArgs[1], now === undefined ? 0 : Math.ceil(now + ms))
      .catch((err: unknown) => link.noteFailure("rate limiter pause", err));
  }

  close(): void {
    clearInterval(this.snapshots);
    this.unwatch();
    this.options.local.close();
  }

  private granted(started: number, release: Release): Release {
    this.options.onWait?.(Date.now() - started);
    return release;
  }
}
