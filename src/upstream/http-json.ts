import type { Deadline } from "./deadline";
import type { CallTicket, CircuitBreaker } from "./circuit-breaker";
import type { HttpAttempt, HttpResult, HttpTransport } from "./http-transport";
import type { OutboundLimiter, Release } from "./rate-limiter";
import { parseRetryAfter, type RetryPolicy } from "./retry-policy";
import type { SourceName } from "./source";
import type { TokenSource } from "./token-cache";
import { UpstreamError, type UpstreamPhase } from "./upstream-error";

/** What a vendor's error body and headers tell us, for `extensions.upstreamCode` / `upstreamRequestId`. */
export interface ErrorFacts {
  upstreamCode?: string;
  upstreamRequestId?: string;
}

export interface SendOptions {
  source: SourceName;
  phase: UpstreamPhase;
  deadline: Deadline;
  /** Builds each attempt afresh, so a retry carries the current token. */
  build: () => Promise<Omit<HttpAttempt, "timeoutMs" | "source">>;
}

/** Called once per HTTP attempt, for logs (and later metrics). */
export type AttemptObserver = (event: {
  source: SourceName;
  phase: UpstreamPhase;
  method: string;
  path: string;
  status?: number;
  error?: string;
  durationMs: number;
  attempt: number;
  upstreamRequestId?: string;
  requestId?: string;
}) => void;

/** What protects one source's API: its outbound rate limit and its circuit breaker. */
export interface SourceGuards {
  limiter?: OutboundLimiter;
  circuit?: CircuitBreaker;
}

/** 5xx and network trouble say the vendor is unwell; 4xx and 429 say nothing about its health. */
const UNHEALTHY_STATUS = new Set([500, 502, 503, 504]);

/**
 * Sends one logical request with retries: network errors and 429/5xx are retried with backoff (honouring
 * Retry-After), always within the request deadline. Returns the last answer, whatever its status, so the
 * caller can handle 401, 202 and 404 in its own terms.
 */
export class RetryingSender {
  constructor(
    private readonly transport: HttpTransport,
    private readonly retry: RetryPolicy,
    private readonly attemptTimeoutMs: number,
    private readonly observe: AttemptObserver,
    private readonly guards: Partial<Record<SourceName, SourceGuards>> = {},
    /** The tenant whose calls these are: each tenant's calls count against its own share of the operation's price. */
    readonly tenant?: string,
  ) {}

  async send(options: SendOptions): Promise<HttpResult> {
    const { source, phase, deadline } = options;
    // Token endpoints are a different service with their own limits: only API calls are guarded.
    const { limiter, circuit } = phase === "api" ? (this.guards[source] ?? {}) : {};
    // The circuit judges a request once, by its final outcome, not each retry of it; a probe attempt is
    // judged at once (its retry could not go out while the probe is held).
    const judge = (ticket: CallTicket | undefined, outcome: "success" | "failure" | "neutral", final: boolean): void => {
      if (!circuit || !ticket || (!final && !ticket.probe)) return;
      if (outcome === "success") circuit.recordSuccess(ticket);
      else if (outcome === "failure") circuit.recordFailure(ticket);
      else circuit.recordNeutral(ticket);
    };
    for (let retries = 0; ; retries++) {
      deadline.assertTimeLeft(source);
      const base = await options.build();
      deadline.assertTimeLeft(source);
      const ticket = circuit?.beforeCall();
      let release: Release | undefined;
      if (limiter) {
        try {
          release = await limiter.acquire(deadline, base.path);
        } catch (err) {
          if (ticket) circuit?.releaseProbe(ticket);
          throw err;
        }
      }
      // Whatever the waits took, nothing goes out for a request that is over: the slot goes back unused.
      if (deadline.expired()) {
        release?.(false);
        if (ticket) circuit?.releaseProbe(ticket);
        throw deadline.lapsed(source);
      }
      const attempt: HttpAttempt = {
        ...base,
        source,
        timeoutMs: Math.max(1, Math.min(this.attemptTimeoutMs, deadline.remaining())),
        signal: deadline.signal,
      };
      const started = performance.now();
      deadline.usage.upstreamCalls++;
      let res: HttpResult;
      try {
        res = await this.transport.send(attempt);
      } catch (err) {
        release?.();
        const e = err as UpstreamError;
        this.observe({
          source,
          phase,
          method: attempt.method,
          path: attempt.path,
          error: e.kind,
          durationMs: performance.now() - started,
          attempt: retries + 1,
          requestId: deadline.requestId,
        });
        const wait = e.kind === "network" && this.retry.canRetry(retries) ? this.retry.backoffMs(retries) : Infinity;
        // A retry is an attempt the vendor counts: one past the operation's budget is not sent (Deadline.attemptBudget).
        const again = wait < deadline.remaining() && (phase !== "api" || deadline.spendAttempt(source, this.tenant));
        // An attempt cut short because its request ended says nothing about the vendor's health (one that
        // ran into the deadline does: a vendor that hangs).
        judge(ticket, attempt.signal!.aborted && deadline.ended ? "neutral" : "failure", !again);
        if (again) {
          await deadline.wait(wait);
          continue;
        }
        throw e;
      }
      release?.();
      if (res.status === 404) deadline.usage.upstreamNotFound++;
      this.observe({
        source,
        phase,
        method: attempt.method,
        path: attempt.path,
        status: res.status,
        durationMs: performance.now() - started,
        attempt: retries + 1,
        upstreamRequestId: header(res, "request-id") ?? header(res, "x-ms-request-id"),
        requestId: deadline.requestId,
      });
      const outcome = UNHEALTHY_STATUS.has(res.status) ? "failure" : res.status < 400 ? "success" : "neutral";
      const retryAfterMs = parseRetryAfter(res.headers["retry-after"]);
      // A 429's Retry-After holds back every caller of this source, not only this one.
      if (res.status === 429 && retryAfterMs !== undefined) limiter?.pauseFor(retryAfterMs, attempt.path);
      if (!this.retry.isRetryableStatus(res.status) || !this.retry.canRetry(retries)) {
        judge(ticket, outcome, true);
        return res;
      }
      const wait = retryAfterMs ?? this.retry.backoffMs(retries);
      if (wait < deadline.remaining() && phase === "api" && !deadline.spendAttempt(source, this.tenant)) {
        // The operation's attempts are spent: this answer stands, as after the last retry (the vendor's own error).
        judge(ticket, outcome, true);
        return res;
      }
      judge(ticket, outcome, wait >= deadline.remaining());
      if (wait >= deadline.remaining()) {
        if (res.status === 429) {
          throw new UpstreamError(
            source,
            "rate-limited",
            `${source} asked us to wait ${Math.ceil(wait / 1000)} s, longer than the request has left`,
            { phase, status: 429, retryAfter: Math.ceil(wait / 1000) },
          );
        }
        return res;
      }
      await deadline.wait(wait);
    }
  }
}

export interface JsonApiOptions {
  source: SourceName;
  baseUrl: URL;
  sender: RetryingSender;
  token: TokenSource;
  /** Reads upstreamCode / upstreamRequestId out of an error answer. */
  errorFacts: (res: HttpResult) => ErrorFacts;
  /**
   * Whether a 404 is the vendor's own "no such resource" (its documented error body), as opposed to a 404
   * from anything else on the way: a wrong API URL's path, a proxy's or load balancer's page. Only the
   * vendor's own reads as "not found" (data); any other is UPSTREAM_BAD_RESPONSE, so a misconfiguration
   * never passes for "this user does not exist".
   */
  isNotFound: (res: HttpResult) => boolean;
  /** Parses a success body; ESET needs int64-safe parsing. */
  parseBody?: (text: string) => unknown;
  /** ESET only: resend with the `response-id` header while the vendor answers 202. */
  pending?: { initialPollMs: number; maxPollMs: number; memory: PendingStore };
}

/** Where pending response-ids are remembered: this process (PendingMemory) or every replica (Redis). */
export interface PendingStore {
  get(key: string): string | undefined | Promise<string | undefined>;
  set(key: string, responseId: string): void;
  delete(key: string): void;
}

/** A pending store in this process: answers at once. */
export interface LocalPending extends PendingStore {
  get(key: string): string | undefined;
}

/**
 * ESET keeps a 202'd answer for 10 minutes under its response-id. When our deadline passes first, the id is
 * remembered by request, so the client's retry of the same query resumes polling instead of asking ESET to
 * start the same query again.
 */
export class PendingMemory implements PendingStore {
  private readonly entries = new Map<string, { responseId: string; expiresAt: number }>();

  constructor(
    readonly ttlMs = 9 * 60_000, // a minute less than ESET's 10, so we never present a cleared id
    private readonly maxEntries = 10_000,
  ) {}

  get(key: string): string | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.responseId;
  }

  set(key: string, responseId: string): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { responseId, expiresAt: Date.now() + this.ttlMs });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * This memory (one bound for all), its keys in a namespace of their own: an ESET account's pending ids
   * under its identity, so two tenants sending the same request to the same regional API never resume
   * each other's response-id.
   */
  within(namespace: string): LocalPending {
    return {
      get: (key) => this.get(namespace + key),
      set: (key, responseId) => this.set(namespace + key, responseId),
      delete: (key) => this.delete(namespace + key),
    };
  }
}

export interface JsonRequest {
  method: "GET" | "POST";
  /** Path below the base URL, already encoded. */
  path: string;
  body?: unknown;
  deadline: Deadline;
  /** The vendor permission this endpoint needs, named in the error when the vendor answers 403. */
  permission?: string;
}

/**
 * One vendor API: bearer auth with one refresh-and-retry on 401, the ESET 202/`response-id` dance, and
 * JSON parsing. Non-success answers become `UpstreamError` with the vendor's code and request id.
 */
export class JsonApi {
  constructor(private readonly options: JsonApiOptions) {}

  async request(req: JsonRequest): Promise<unknown> {
    return this.call(req, false);
  }

  /**
   * `request`; with `notFoundIsData`, the vendor's final 404 resolves to undefined where it is decided, rather
   * than as an UpstreamError built (stack trace and all), thrown and caught by `requestOrUndefined`: a lookup
   * of an id the vendor does not know is common, and the error cost ~2 % of such a request's CPU.
   */
  private async call(req: JsonRequest, notFoundIsData: boolean): Promise<unknown> {
    const { source, token, pending } = this.options;
    // A call still queued (DEFENDER_CONCURRENCY) when its request ended neither goes out nor counts.
    req.deadline.assertTimeLeft(source);
    // Each attempt is paid for before it goes out: the first here, retries in RetryingSender, polls below.
    const tenant = this.options.sender.tenant;
    req.deadline.spendCall(source, tenant);
    const origin = this.options.baseUrl.origin;
    const path = this.options.baseUrl.pathname.replace(/\/$/, "") + req.path;
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    let refreshed = false;
    const pendingKey = `${req.method} ${path}\n${body ?? ""}`;
    let responseId = await pending?.memory.get(pendingKey);
    let restartedExpiredPending = false;
    let pollMs = pending?.initialPollMs ?? 0;
    /** The request-id of the vendor's last 202, for the error when the deadline cuts the next poll. */
    let pendingRequestId: string | undefined;
    for (;;) {
      let usedToken = "";
      let res: HttpResult;
      try {
        res = await this.options.sender.send({
          source,
          phase: "api",
          deadline: req.deadline,
          build: async () => {
            usedToken = await token.getToken(req.deadline);
            const headers: Record<string, string> = { authorization: `Bearer ${usedToken}`, accept: "application/json" };
            if (body !== undefined) headers["content-type"] = "application/json";
            if (responseId !== undefined) headers["response-id"] = responseId;
            return { method: req.method, origin, path, headers, body };
          },
        });
      } catch (err) {
        // Whatever stopped us mid-poll, ESET still holds the answer: let the next identical request resume.
        if (responseId !== undefined) pending?.memory.set(pendingKey, responseId);
        // A poll the deadline cut short: the vendor's last word was 202, so the answer is "still pending at
        // the deadline", the same whether the deadline came during the wait between polls or during a poll
        // (which one it is depends on the machine's load, not on the vendor). A poll that timed out on its
        // own, with time left, is a vendor that hangs: UPSTREAM_TIMEOUT as before.
        if (
          responseId !== undefined &&
          pending &&
          err instanceof UpstreamError &&
          err.kind === "timeout" &&
          req.deadline.expired() &&
          !req.deadline.ended
        ) {
          throw new UpstreamError(source, "pending", `${source} still processing ${req.method} ${req.path} at the deadline`, {
            status: 202,
            upstreamRequestId: pendingRequestId,
            cause: err,
          });
        }
        throw err;
      }
      if (res.status === 401 && !refreshed) {
        // The token may have been revoked or expired early: get a new one and try once more. The re-send is
        // not charged to the operation's attempts: it replaces an attempt that never authenticated as the
        // app, so the app's quota did not count it (and a revoked token fails every call in flight at once).
        token.invalidate(usedToken);
        refreshed = true;
        continue;
      }
      if (res.status === 202 && pending) {
        responseId = header(res, "response-id") ?? responseId;
        pendingRequestId = header(res, "request-id");
        // A poll the operation's price cannot pay ends like one past the deadline: the id is kept for the next try.
        if (pollMs >= req.deadline.remaining() || !req.deadline.spendAttempt(source, tenant)) {
          if (responseId !== undefined) pending.memory.set(pendingKey, responseId);
          throw new UpstreamError(source, "pending", `${source} still processing ${req.method} ${req.path} at the deadline`, {
            status: 202,
            upstreamRequestId: header(res, "request-id"),
          });
        }
        await req.deadline.wait(pollMs);
        pollMs = Math.min(Math.ceil(pollMs * 1.5), pending.maxPollMs);
        continue;
      }
      if (res.status === 404 && responseId !== undefined && !restartedExpiredPending) {
        // ESET clears a cached answer after 10 minutes or once it was fetched: the 404 is about the
        // response-id, not the resource. Ask again from scratch, once.
        responseId = undefined;
        pending?.memory.delete(pendingKey);
        restartedExpiredPending = true;
        if (!req.deadline.spendAttempt(source, tenant)) throw req.deadline.overPrice(source, tenant);
        continue;
      }
      if (responseId !== undefined) pending?.memory.delete(pendingKey);
      if (res.status >= 200 && res.status < 300) return this.parse(res, req);
      if (res.status === 404) {
        if (!this.options.isNotFound(res)) throw this.foreignNotFound(res, req);
        if (notFoundIsData) return undefined;
      }
      const facts = this.options.errorFacts(res);
      throw new UpstreamError(source, "http", `${source} ${req.method} ${req.path} answered ${res.status}`, {
        status: res.status,
        upstreamCode: facts.upstreamCode,
        upstreamRequestId: facts.upstreamRequestId,
        retryAfter: res.status === 429 ? retryAfterSeconds(res) : undefined,
        requiredPermission: res.status === 403 ? req.permission : undefined,
      });
    }
  }

  /**
   * The path (below the base URL, with its query) of an absolute URL the vendor handed out, such as an
   * OData `@odata.nextLink`; undefined when it points anywhere but this API. The bearer token goes only
   * where the configuration says: a link to another origin or path is never followed.
   */
  pathOf(absoluteUrl: string): string | undefined {
    let url: URL;
    try {
      url = new URL(absoluteUrl);
    } catch {
      return undefined;
    }
    const base = this.options.baseUrl.pathname.replace(/\/$/, "");
    if (url.origin !== this.options.baseUrl.origin || !url.pathname.startsWith(`${base}/`) || url.username !== "" || url.password !== "")
      return undefined;
    return url.pathname.slice(base.length) + url.search;
  }

  /**
   * `request`, except that the vendor's own 404 (`isNotFound`) resolves to undefined (no JSON body parses to
   * that): "no such resource" is data, not an error. Any other 404 (a wrong path in the API URL, a proxy's
   * page, a token endpoint's 404) stays an error.
   */
  async requestOrUndefined(req: JsonRequest): Promise<unknown> {
    return this.call(req, true);
  }

  /** A 404 that is not the vendor's "no such resource": the request went somewhere else than the vendor's API. */
  private foreignNotFound(res: HttpResult, req: JsonRequest): UpstreamError {
    const { source } = this.options;
    return new UpstreamError(
      source,
      "parse",
      `${source} ${req.method} ${req.path} answered 404 without the vendor's not-found body (a wrong API URL path, or a proxy's page?)`,
      { status: 404, upstreamRequestId: this.options.errorFacts(res).upstreamRequestId },
    );
  }

  private parse(res: HttpResult, req: JsonRequest): unknown {
    try {
      return (this.options.parseBody ?? JSON.parse)(res.text);
    } catch (err) {
      throw new UpstreamError(this.options.source, "parse", `${this.options.source} ${req.method} ${req.path}: body is not JSON`, {
        status: res.status,
        upstreamRequestId: this.options.errorFacts(res).upstreamRequestId,
        cause: err,
      });
    }
  }
}

export function header(res: HttpResult, name: string): string | undefined {
  const v = res.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === "" ? undefined : s;
}

function retryAfterSeconds(res: HttpResult): number | undefined {
  const ms = parseRetryAfter(res.headers["retry-after"]);
  return ms === undefined ? undefined : Math.ceil(ms / 1000);
}

/** Parses an error body that may be JSON, text or empty. Never throws. */
export function tryParseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
