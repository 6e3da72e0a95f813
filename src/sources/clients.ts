import type { Logger } from "pino";
import type { Metrics } from "../observability/metrics";
import { DefenderClient, defenderErrorFacts } from "./defender/client";
import { entraClientCredentials, type EntraCredentials } from "./defender/entra-token";
import { defenderEndpointFamily } from "./defender/endpoint-family";
import { EsetClient, esetErrorFacts } from "./eset/client";
import { EsetTokenFlow, type EsetCredentials } from "./eset/eset-token";
import { CircuitBreaker, type CircuitOptions, type CircuitState } from "../upstream/circuit-breaker";
import { JsonApi, PendingMemory, RetryingSender, type AttemptObserver, type SourceGuards } from "../upstream/http-json";
import { HttpTransport, type HttpTransportOptions } from "../upstream/http-transport";
import { parseJsonLossless } from "../upstream/lossless-json";
import { BucketedLimiter, RateLimiter, type OutboundLimiter, type RateWindow } from "../upstream/rate-limiter";
import type { RedisLink } from "../store/redis-link";
import { SharedRateLimiter } from "../upstream/shared-rate-limiter";
import { SharedPendingMemory } from "../upstream/shared-pending-memory";
import { RetryPolicy, type RetryOptions } from "../upstream/retry-policy";
import type { SourceName } from "../upstream/source";
import { TokenCache, type TokenBackoffOptions, type TokenCacheEvents } from "../upstream/token-cache";
import { UpstreamError } from "../upstream/upstream-error";
import { clip } from "../observability/log-bounds";

export interface ClientsOptions {
  defender?: EntraCredentials & { apiUrl: URL };
  eset?: EsetCredentials & { apiUrl: URL };
  attemptTimeoutMs: number;
  retry: RetryOptions;
  esetPendingPollMs: number;
  log: Logger;
  /** Told about every token obtained, so logs can redact it. */
  onToken: (token: string) => void;
  rateLimits: Record<SourceName, RateWindow[]>;
  rateLimitMaxQueue: number;
  /** The share (0–1) of each window one caller may hold; the default 0.6 (see `sharesOf`). */
  rateLimitCallerShare?: number;
  /**
   * Defender's budget: one for every call (`app`, the default and the safe choice), or one per endpoint
   * family (`endpoint`: users, machines, alerts; see defender/endpoint-family.ts), each with all the windows.
   */
  defenderRateLimitScope?: "app" | "endpoint";
  circuit: CircuitOptions;
  metrics?: Metrics;
  connectionsPerOrigin?: number;
  /** The outbound proxy (HTTP_PROXY, HTTPS_PROXY, NO_PROXY): API and token calls alike go through it. */
  proxy?: HttpTransportOptions["proxy"];
  /** The shared tier: rate limits and pending response-ids across replicas. */
  redis?: RedisLink;
  /** How long a failed token request is remembered (readiness probes and queries alike): see TokenCache. */
  tokenBackoff?: TokenBackoffOptions;
  /** Per source, a digest of the credentials the vendor counts calls against (names the shared budget). */
  budgets?: Partial<Record<SourceName, string>>;
}

/** A configured source: its client plus what readiness checks and metrics look at. */
export interface SourceRuntime<C> {
  client: C;
  token: TokenCache;
  guards: Required<SourceGuards> & { limiter: OutboundLimiter };
}

export interface Clients {
  defender?: SourceRuntime<DefenderClient>;
  eset?: SourceRuntime<EsetClient>;
  pendingMemory: PendingMemory;
  close(): Promise<void>;
  /** Rejects every caller queued for a rate-limit slot with a retryable error (shutdown); the pool stays open. */
  drainQueues(): void;
}

/** Builds the process-wide upstream machinery once: one pool, one token cache per source, one client each. */
export function createClients(options: ClientsOptions): Clients {
  const transport = new HttpTransport({ connectionsPerOrigin: options.connectionsPerOrigin, proxy: options.proxy });
  const log = options.log.child({ component: "upstream" });
  const metrics = options.metrics;
  const observe: AttemptObserver = (e) => {
    metrics?.recordUpstreamCall(e.source, e.phase, String(e.status ?? e.error), e.attempt, e.durationMs / 1000);
    // Every attempt at debug; failures, retries and non-2xx at info, so a busy gateway's info log stays one
    // line per request while trouble is always visible. A 404 is "no such user" (data, not trouble; a
    // client can ask for a thousand unknown ids): debug, and counted on the request's line.
    const trouble = e.error !== undefined || e.attempt > 1 || (e.status !== undefined && e.status >= 400 && e.status !== 404);
    const level = trouble ? "info" : "debug";
    log[level](
      {
        source: e.source,
        phase: e.phase,
        method: e.method,
        // The path carries a client-chosen id: bounded like every client string in a log line.
        path: e.phase === "token" ? "(token endpoint)" : clip(e.path),
        status: e.status,
        error: e.error,
        durationMs: Math.round(e.durationMs * 10) / 10,
        attempt: e.attempt,
        upstreamRequestId: e.upstreamRequestId,
        requestId: e.requestId,
      },
      "upstream call",
    );
  };
  const guardsFor = (source: SourceName, bucketOf?: (path: string) => string): Required<SourceGuards> => {
    const onWait = (ms: number) => metrics?.rateLimitWait.observe({ source }, ms / 1000);
    // One budget: in process, or shared by every replica through Redis under the source's (and bucket's) name.
    const budget = (bucket?: string): OutboundLimiter => {
      const local = new RateLimiter(
        source,
        options.rateLimits[source],
        options.rateLimitMaxQueue,
        Date.now,
        options.redis ? undefined : onWait,
        options.rateLimitCallerShare,
      );
      return options.redis
        ? new SharedRateLimiter({
            local,
            link: options.redis,
            windows: options.rateLimits[source],
            budget: `${source}:${options.budgets?.[source] ?? "default"}${bucket === undefined ? "" : `:${bucket}`}`,
            // An attempt lasts at most the attempt timeout; a second more covers the answer's way back.
            holdMs: options.attemptTimeoutMs + 1_000,
            onWait,
            share: options.rateLimitCallerShare,
          })
        : local;
    };
    const limiter = bucketOf ? new BucketedLimiter(bucketOf, budget) : budget();
    metrics?.setCircuit(source, "closed");
    const circuit = new CircuitBreaker(source, options.circuit, (state: CircuitState) => {
      metrics?.setCircuit(source, state);
      log[state === "closed" ? "info" : "warn"]({ source, circuit: state }, `circuit ${state}`);
    });
    return { limiter, circuit };
  };
  const guards: Partial<Record<SourceName, Required<SourceGuards>>> = {};
  if (options.defender)
    guards.DEFENDER = guardsFor("DEFENDER", options.defenderRateLimitScope === "endpoint" ? defenderEndpointFamily : undefined);
  if (options.eset) guards.ESET = guardsFor("ESET");
  metrics?.watchQueues(() =>
    (Object.entries(guards) as Array<[SourceName, Required<SourceGuards>]>).map(([source, g]) => [source, g.limiter.queueDepth]),
  );
  const tokenEvents = (source: SourceName): TokenCacheEvents => ({
    onNewToken: (token) => {
      options.onToken(token);
      metrics?.tokenRefreshes.inc({ source });
    },
    // One line per failed token request (not per caller served the remembered failure).
    onFailure: (err, retryInMs, servingCurrent) => {
      metrics?.tokenFailures.inc({ source });
      const e = err instanceof UpstreamError ? err : undefined;
      log.warn(
        {
          source,
          kind: e?.kind,
          status: e?.status,
          upstreamCode: e?.upstreamCode,
          upstreamRequestId: e?.upstreamRequestId,
          retryInMs,
          servingCurrent,
        },
        servingCurrent
          ? `${source} token renewal failed; serving with the current token until it expires`
          : `${source} token request failed; no new token request for ${Math.ceil(retryInMs / 1000)} s`,
      );
    },
  });
  const sender = new RetryingSender(transport, new RetryPolicy(options.retry), options.attemptTimeoutMs, observe, guards);
  const pendingMemory = new PendingMemory();
  const pendingStore = options.redis
    ? new SharedPendingMemory(pendingMemory, options.redis, `ESET:${options.budgets?.ESET ?? "default"}:`)
    : pendingMemory;

  let defender: SourceRuntime<DefenderClient> | undefined;
  if (options.defender) {
    const token = new TokenCache(entraClientCredentials(sender, options.defender), tokenEvents("DEFENDER"), options.tokenBackoff);
    const client = new DefenderClient(
      new JsonApi({
        source: "DEFENDER",
        baseUrl: options.defender.apiUrl,
        sender,
        token,
        errorFacts: defenderErrorFacts,
        parseBody: parseJsonLossless,
      }),
    );
    defender = { client, token, guards: guards.DEFENDER! };
  }

  let eset: SourceRuntime<EsetClient> | undefined;
  if (options.eset) {
    const flow = new EsetTokenFlow(sender, options.eset, log, options.onToken);
    const token = new TokenCache(flow.fetch, tokenEvents("ESET"), options.tokenBackoff);
    const client = new EsetClient(
      new JsonApi({
        source: "ESET",
        baseUrl: options.eset.apiUrl,
        sender,
        token,
        errorFacts: esetErrorFacts,
        parseBody: parseJsonLossless,
        pending: { initialPollMs: options.esetPendingPollMs, maxPollMs: Math.max(options.esetPendingPollMs, 5_000), memory: pendingStore },
      }),
    );
    eset = { client, token, guards: guards.ESET! };
  }

  return {
    defender,
    eset,
    pendingMemory,
    drainQueues: () => {
      for (const g of Object.values(guards)) g?.limiter.close();
    },
    close: async () => {
      for (const g of Object.values(guards)) g?.limiter.close();
      await transport.close();
    },
  };
}
