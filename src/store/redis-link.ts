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
    this.client.on("ready", () => {
      this.lastAnswerAt = Date.now();
      this.stalled = false;
      this.mark("up");
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
        this.client.off("ready", onReady);
        resolve(ok);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(false), ms);
      this.client.once("ready", onReady);
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
        if (this.stalled) {
          this.stalled = false;
          this.mark("up");
        }
      },
      () => {
        this.pingOut = false;
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

  private mark(status: RedisStatus, reason?: string): void {
    if (status === this.status) return;
    this.status = status;
    this.onStatus(status);
    if (status === "down") {
      const listeners = [...this.downListeners];
      this.downListeners.clear();
      for (const listener of listeners) listener();
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
