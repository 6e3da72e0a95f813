import { Agent, EnvHttpProxyAgent, errors as undiciErrors, type Dispatcher } from "undici";
import { UpstreamError } from "./upstream-error";
import type { SourceName } from "./source";
import type { LifetimeSignal } from "./deadline";

export interface HttpAttempt {
  source: SourceName;
  method: "GET" | "POST";
  /** scheme://host[:port] */
  origin: string;
  /**
   * The path exactly as it goes on the wire. Kept as a string, never passed through `new URL`: the URL
   * parser turns an encoded `%2E%2E` segment back into `..` and resolves it.
   */
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Give up on an answer (head, or a stalled body) after this long; already capped by the request deadline. */
  timeoutMs: number;
  /**
   * The request's lifetime (`Deadline.signal`): aborts an attempt still waiting for a pooled connection at
   * the deadline (undici's timeouts only start once it is sent), and any attempt once the request ended.
   */
  signal?: LifetimeSignal;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface HttpTransportOptions {
  /** Sockets kept per origin. */
  connectionsPerOrigin?: number;
  /** How long an idle keep-alive socket stays open. */
  keepAliveTimeoutMs?: number;
  /** Reach vendors through a proxy: per target, `httpsProxy` or `httpProxy` unless `noProxy` names its host. */
  proxy?: { httpProxy?: string; httpsProxy?: string; noProxy: string };
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
]);

/**
 * The one place usergraph talks HTTP to a vendor, token endpoints included: a keep-alive undici pool
 * shared by both sources, through the outbound proxy when one is configured. One call is one attempt;
 * retries, auth and parsing live in `http-json.ts`.
 */
export class HttpTransport {
  private readonly agent: Dispatcher;

  constructor(options: HttpTransportOptions = {}) {
    const pool = {
      connections: options.connectionsPerOrigin ?? 64,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 30_000,
      pipelining: 1,
    };
    const proxy = options.proxy;
    // The same pool settings apply to every tunnel (one CONNECT per kept-alive socket). An empty string,
    // never undefined, keeps undici from reading process.env itself: config.ts decides what the variables say.
    this.agent = proxy
      ? new EnvHttpProxyAgent({ ...pool, httpProxy: proxy.httpProxy ?? "", httpsProxy: proxy.httpsProxy ?? "", noProxy: proxy.noProxy })
      : new Agent(pool);
  }

  /**
   * One attempt. The timeout is undici's own: no answer head within `timeoutMs`, or a body that stalls for
   * `timeoutMs`, fails the attempt. (An AbortController and a timer per attempt cost ~3% of CPU under
   * load for the same effect; the request's one `signal` is shared by all of its attempts.)
   */
  async send(attempt: HttpAttempt): Promise<HttpResult> {
    try {
      const res = await this.agent.request({
        origin: attempt.origin,
        path: attempt.path,
        method: attempt.method,
        headers: attempt.headers,
        body: attempt.body,
        headersTimeout: attempt.timeoutMs,
        bodyTimeout: attempt.timeoutMs,
        signal: attempt.signal,
      });
      const text = await res.body.text();
      return { status: res.statusCode, headers: res.headers, text };
    } catch (err) {
      throw toTransportError(attempt, err);
    }
  }

  private closing?: Promise<void>;

  /** Closes the pool once; later calls wait for the same close (undici throws on a second one). */
  close(): Promise<void> {
    return (this.closing ??= this.agent.close());
  }
}

function toTransportError(attempt: HttpAttempt, err: unknown): UpstreamError {
  const where = `${attempt.method} ${attempt.origin}${attempt.path}`;
  if (attempt.signal?.aborted) {
    return new UpstreamError(attempt.source, "timeout", `${where}: abandoned, the request's deadline passed or it ended`, { cause: err });
  }
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) {
    return new UpstreamError(attempt.source, "timeout", `${where} timed out after ${attempt.timeoutMs} ms`);
  }
  const code = errorCode(err);
  // undici's words for a proxy that refused the tunnel (407: wrong proxy credentials; 403: host not allowed).
  const refused = err instanceof Error ? /^Proxy response \((\d{3})\)/.exec(err.message) : null;
  if (refused) {
    return new UpstreamError(attempt.source, "network", `${where}: the outbound proxy refused the tunnel (HTTP ${refused[1]})`, {
      cause: err,
    });
  }
  if (err instanceof undiciErrors.ConnectTimeoutError) {
    return new UpstreamError(attempt.source, "network", `${where}: connect timeout`, { cause: err });
  }
  if (code !== undefined && NETWORK_CODES.has(code)) {
    return new UpstreamError(attempt.source, "network", `${where}: ${code}`, { cause: err });
  }
  // Anything else undici throws is still a failure to get an answer over the network.
  return new UpstreamError(attempt.source, "network", `${where}: ${code ?? (err as Error)?.name ?? "error"}`, {
    cause: err,
  });
}

function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; e && depth < 3; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
