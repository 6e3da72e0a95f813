import { randomBytes } from "node:crypto";
import Redis from "ioredis";
import type { Logger } from "pino";
import type { RedisConfig } from "../config";

export type RedisStatus = "up" | "down";

const HEARTBEAT_MS = 250;
/** How long Redis may go without answering before the link counts as down. */
const STALL_MS = 1_000;
/** Heartbeat samples kept for the clock offset: the last 5 s. */
const CLOCK_SAMPLES = 20;
/** A replica re-registers in the fleet's membership every this many heartbeats (1 s), and counts as live this long. */
const MEMBERSHIP_EVERY = 4;
const MEMBER_TTL_MS = 3_000;

/**
 * KEYS: [1] the fleet's members (a sorted set scored by when each one's registration expires), [2] the
 * epoch (a random token set by whichever replica finds it missing). ARGV: [1] this replica, [2] the TTL,
 * [3] a new epoch, should there be none. Returns {epoch, live replicas, Redis's now}. An epoch other than the
 * one a replica knows means Redis lost its data (a restart without persistence, a flush): whatever the
 * fleet counted there (the rate-limit windows) is gone. The epoch outlives any window (a day, renewed).
 */
const MEMBERSHIP = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  epoch = ARGV[3]
  redis.call('SET', KEYS[2], epoch, 'PX', 86400000)
else
  redis.call('PEXPIRE', KEYS[2], 86400000)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return {epoch, redis.call('ZCARD', KEYS[1]), now}`;

/** Told of the link's transitions (the shared rate limiters: see SharedRateLimiter). */
export interface LinkWatcher {
  down(): void;
  /** Usable again; `lost`: Redis lost its data while this replica was away (a new epoch). */
  up(lost: boolean): void;
}

/** What `/health/ready` says about the shared tier. */
export interface RedisHealth {
  status: RedisStatus;
  /** While down: since when (ISO), and what usergraph does meanwhile. */
  since?: string;
  serving?: string;
}

/**
 * The one connection to the shared tier, and the truth about whether it is usable. Commands never queue
 * while Redis is away (`enableOfflineQueue: false`) and time out after REDIS_COMMAND_TIMEOUT_MS, so a dead
 * or slow Redis costs a request milliseconds, not its deadline: every caller treats a failed command as
 * "no shared tier for this call" and goes on in process. ioredis reconnects on its own, with backoff.
 * Transitions are logged once each way (never the URL, which may carry a password).
 */
export class RedisLink {
  readonly client: Redis;
  /** Prefix of every key this deployment writes. */
  readonly prefix: string;
  /** Distinguishes this process's lock tokens and limiter entries from other replicas'. */
  readonly replicaId = randomBytes(6).toString("base64url");
  private status: RedisStatus = "down";
  private downSince = Date.now();
  private everUp = false;
  private readonly where: string;
  /** A connected Redis that stops answering (SIGSTOP, a stuck host) looks "up" to the socket: a heartbeat notices. */
  private readonly heartbeat: NodeJS.Timeout;
  private lastAnswerAt = Date.now();
  private pingOut = false;
  private stalled = false;
  /** Recent heartbeat samples of Redis's clock: the one with the shortest round trip gives the offset. */
  private readonly clockSamples: Array<{ rttMs: number; offsetMs: number }> = [];
  private clockOffsetMs?: number;
  /** Told once when the link next goes down: callers waiting on a command stop waiting then. */
  private readonly downListeners = new Set<() => void>();
  /** How long a command may take before its caller gives up on it and goes on without Redis. */
  readonly commandTimeoutMs: number;
  private readonly watchers = new Set<LinkWatcher>();
  /** The epoch last seen in Redis (see MEMBERSHIP); undefined before the first answer. */
  private epoch?: string;
  private live = 1;
  private beats = 0;
  private confirming = false;

  constructor(
    config: RedisConfig,
    private readonly log: Logger,
    private readonly onStatus: (status: RedisStatus) => void = () => {},
  ) {
    this.prefix = config.keyPrefix;
    this.commandTimeoutMs = config.commandTimeoutMs;
    const url = new URL(config.url);
    this.where = `${url.protocol}//${url.hostname}:${url.port || "6379"}${url.pathname === "/" ? "" : url.pathname}`;
    this.client = new Redis(config.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: config.commandTimeoutMs,
      connectTimeout: Math.max(1000, config.commandTimeoutMs),
      // Reconnect for ever: 50 ms, 100 ms, … capped at 2 s.
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
      enableAutoPipelining: true,
      lazyConnect: false,
    });
    // Usable only once the membership has answered: that is where a Redis that lost its data shows, and the
    // rate limiters must hear of it before they ask Redis for a slot.
    this.client.on("ready", () => {
      this.lastAnswerAt = Date.now();
      this.stalled = false;
      this.confirmUp();
    });
    this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
    this.client.on("close", () => this.mark("down"));
    this.client.on("end", () => this.mark("down"));
    // ioredis emits "error" for every failed reconnect; the transition log is enough.
    this.client.on("error", (err: Error) => {
      if (this.status === "up") this.mark("down", err.message);
    });
  }

  /**
   * How many replicas share this Redis, as last seen (each registers every second; at least 1, this one):
   * while Redis is away, each takes its part of the vendors' budgets by it.
   */
  get fleetSize(): number {
    return this.live;
  }

  /** Calls `watcher` at every transition until the returned function is called. */
  watch(watcher: LinkWatcher): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  /** True while commands can be sent; callers skip Redis entirely otherwise. */
  get available(): boolean {
    return this.status === "up" && this.client.status === "ready";
  }

  /**
   * Now on Redis's clock (its TIME), estimated from the heartbeat's samples to within half the shortest
   * recent round trip; undefined until the first sample. Scripts run on Redis's clock: a replica uses this
   * to tell a script when its caller will have given up, whatever the replica's own clock says.
   */
  redisNow(): number | undefined {
    return this.clockOffsetMs === undefined ? undefined : Date.now() + this.clockOffsetMs;
  }

  /**
   * Calls `listener` once if the link goes down (a stall noticed, the connection lost) before the returned
   * function is called: a caller waiting on a command stops waiting then instead of paying its timeout.
   */
  onDown(listener: () => void): () => void {
    this.downListeners.add(listener);
    return () => this.downListeners.delete(listener);
  }

  health(): RedisHealth {
    if (this.status === "up") return { status: "up" };
    return {
      status: "down",
      since: new Date(this.downSince).toISOString(),
      serving: "from the vendors with in-process cache, single flight and rate limits; reconnecting",
    };
  }

  /** Resolves once connected, or after `ms` either way: start-up never waits long for Redis. */
  async waitUntilReady(ms: number): Promise<boolean> {
    if (this.available) return true;
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        stop();
        resolve(ok);
      };
      const stop = this.watch({ down: () => {}, up: () => done(true) });
      const timer = setTimeout(() => done(false), ms);
    });
  }

  /** A command failed though the link looked up (a timeout, say): say so once, keep going without Redis for it. */
  noteFailure(what: string, err: unknown): void {
    this.log.debug({ component: "redis", what, err: err instanceof Error ? err.message : String(err) }, "redis command failed");
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    this.client.removeAllListeners("close");
    this.client.removeAllListeners("end");
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  /**
   * One TIME at a time (a PING that also reads Redis's clock), every HEARTBEAT_MS while connected. No answer
   * for STALL_MS: the link is marked down ("stalled"), so requests skip Redis instead of each paying a
   * command timeout, and /health/ready, the `usergraph_redis_up` gauge and the log say so. The first answer
   * after the stall marks it up again.
   */
  private beat(): void {
    if (this.client.status !== "ready") return;
    if (!this.stalled && this.status === "down")
      this.confirmUp(); // the membership failed after "ready": again
    else if (this.status === "up" && ++this.beats % MEMBERSHIP_EVERY === 0) this.checkMembership();
    const now = Date.now();
    if (!this.stalled && this.status === "up" && now - this.lastAnswerAt > STALL_MS) {
      // After our own event loop was blocked, timers run before pending socket reads: look again once this
      // turn's I/O is processed, so a busy process does not take its own lateness for a stalled Redis.
      setImmediate(() => {
        const silentFor = Date.now() - this.lastAnswerAt;
        if (this.stalled || this.status !== "up" || silentFor <= STALL_MS) return;
        this.stalled = true;
        this.mark("down", `stalled: no answer to a PING for ${silentFor} ms`);
      });
    }
    if (this.pingOut) return;
    this.pingOut = true;
    const sentAt = Date.now();
    this.client.time().then(
      ([seconds, micros]) => {
        this.pingOut = false;
        this.lastAnswerAt = Date.now();
        this.sampleClock(sentAt, this.lastAnswerAt, Number(seconds) * 1000 + Math.floor(Number(micros) / 1000));
        if (this.stalled) this.confirmUp();
      },
      () => {
        this.pingOut = false;
      },
    );
  }

  /** Registers this replica and reads the fleet's size and epoch; true when the epoch changed (Redis lost its data). */
  private async membership(): Promise<boolean> {
    const c = this.client as Redis & { ugMembership?: (n: number, ...args: Array<string | number>) => Promise<[string, number, number]> };
    if (c.ugMembership === undefined) this.client.defineCommand("ugMembership", { lua: MEMBERSHIP });
    const sentAt = Date.now();
    const [epoch, live, redisMs] = await c.ugMembership!(
      2,
      `${this.prefix}fleet:members`,
      `${this.prefix}fleet:epoch`,
      this.replicaId,
      MEMBER_TTL_MS,
      randomBytes(9).toString("base64url"),
    );
    const lost = this.epoch !== undefined && epoch !== this.epoch;
    this.epoch = epoch;
    this.live = Math.max(1, Number(live));
    // A Redis that lost its data may be another process, on another host: its clock is not the old one's.
    if (lost) this.clockSamples.length = 0;
    this.sampleClock(sentAt, Date.now(), Number(redisMs));
    return lost;
  }

  /** Marks the link up once the membership answers (and says whether Redis lost its data meanwhile). */
  private confirmUp(): void {
    if (this.confirming) return;
    this.confirming = true;
    this.membership().then(
      (lost) => {
        this.confirming = false;
        this.lastAnswerAt = Date.now();
        this.stalled = false;
        this.mark("up", undefined, lost);
      },
      () => {
        this.confirming = false;
      },
    );
  }

  /** The periodic membership while up; a changed epoch (a flush, an eviction) is handled as an outage. */
  private checkMembership(): void {
    if (this.confirming) return;
    this.confirming = true;
    this.membership().then(
      (lost) => {
        this.confirming = false;
        if (lost && this.status === "up") {
          this.mark("down", "redis lost its data (a new epoch)");
          this.mark("up", undefined, true);
        }
      },
      () => {
        this.confirming = false;
      },
    );
  }

  /** Redis's clock read at some point of [sentAt, answeredAt]: assume the middle, trust the shortest round trips. */
  private sampleClock(sentAt: number, answeredAt: number, redisMs: number): void {
    if (!Number.isFinite(redisMs)) return;
    this.clockSamples.push({ rttMs: answeredAt - sentAt, offsetMs: redisMs - (sentAt + answeredAt) / 2 });
    if (this.clockSamples.length > CLOCK_SAMPLES) this.clockSamples.shift();
    this.clockOffsetMs = this.clockSamples.reduce((best, s) => (s.rttMs < best.rttMs ? s : best)).offsetMs;
  }

  private mark(status: RedisStatus, reason?: string, lost = false): void {
    if (status === this.status) return;
    this.status = status;
    this.onStatus(status);
    if (status === "down") {
      const listeners = [...this.downListeners];
      this.downListeners.clear();
      for (const listener of listeners) listener();
    }
    for (const watcher of [...this.watchers]) {
      if (status === "down") watcher.down();
      else watcher.up(lost);
    }
    if (status === "up") {
      this.log.info(
        { component: "redis", redis: this.where, downForMs: this.everUp ? Date.now() - this.downSince : undefined },
        this.everUp
          ? "redis reconnected: shared cache and limits back"
          : "redis connected: cache, rate limits and single flight are shared",
      );
      this.everUp = true;
    } else {
      this.downSince = Date.now();
      this.log.warn(
        { component: "redis", redis: this.where, reason },
        "redis unavailable: serving from the vendors with in-process cache and rate limits until it is back",
      );
    }
  }
}
