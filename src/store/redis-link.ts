import { randomBytes } from "node:crypto";
import Redis from "ioredis";
import type { Logger } from "pino";
import type { RedisConfig } from "../config";

export type RedisStatus = "up" | "down";

const HEARTBEAT_MS = 250;
/** How long Redis may go without answering before the link counts as down. */
const STALL_MS = 1_000;

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

  constructor(
    config: RedisConfig,
    private readonly log: Logger,
    private readonly onStatus: (status: RedisStatus) => void = () => {},
  ) {
    this.prefix = config.keyPrefix;
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
   * One PING at a time, every HEARTBEAT_MS while connected. No answer for STALL_MS: the link is marked down
   * ("stalled"), so requests skip Redis instead of each paying a command timeout, and /health/ready, the
   * `usergraph_redis_up` gauge and the log say so. The first answer after the stall marks it up again.
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
    this.client.ping().then(
      () => {
        this.pingOut = false;
        this.lastAnswerAt = Date.now();
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

  private mark(status: RedisStatus, reason?: string): void {
    if (status === this.status) return;
    this.status = status;
    this.onStatus(status);
    if (status === "up") {
      this.log.info({ component: "redis", redis: this.where, downForMs: this.everUp ? Date.now() - this.downSince : undefined }, this.everUp ? "redis reconnected: shared cache and limits back" : "redis connected: cache, rate limits and single flight are shared");
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
