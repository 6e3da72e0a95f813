import type { Logger } from "pino";
import { configuredTenants, type Config, type TenantConfig } from "../config";
import { DEFAULT_TENANT } from "../tenants-file";
import type { Metrics } from "../observability/metrics";
import { CircuitBreaker, type CircuitOptions, type CircuitState } from "../upstream/circuit-breaker";
import { PendingMemory, RetryingSender, type AttemptObserver, type SourceGuards } from "../upstream/http-json";
import { HttpTransport, type HttpTransportOptions } from "../upstream/http-transport";
import { BucketedLimiter, RateLimiter, type OutboundLimiter, type RateWindow } from "../upstream/rate-limiter";
import type { RedisLink } from "../store/redis-link";
import type { ListingBudget } from "../store/listing-budget";
import { SharedListings } from "../store/shared-listings";
import { SharedEntities } from "../store/shared-entities";
import { EntityStore, type EntityStoreOptions } from "../store/entity-store";
import { SharedRateLimiter } from "../upstream/shared-rate-limiter";
import { SharedPendingMemory } from "../upstream/shared-pending-memory";
import { RetryPolicy, type RetryOptions } from "../upstream/retry-policy";
import type { SourceName } from "../upstream/source";
import { TokenCache, type TokenBackoffOptions, type TokenCacheEvents } from "../upstream/token-cache";
import { UpstreamError } from "../upstream/upstream-error";
import { clip } from "../observability/log-bounds";
import type { SourceDefinition, SourceKit, SourceRuntime, StoreCommon } from "./source";
import { fingerprint } from "./stores";

export type { SourceRuntime };

export interface ClientsOptions {
  /** The sources to start, in order (the registered ones). Each reads its own settings from `config`. */
  sources: readonly SourceDefinition[];
  config: Config;
  attemptTimeoutMs: number;
  retry: RetryOptions;
  log: Logger;
  /** Told about every token obtained, so logs can redact it. */
  onToken: (token: string) => void;
  /** Told about every secret a source holds, so logs can redact it. */
  redact: (secret: string | undefined) => void;
  /** "demo-simulator" in demo mode, else the URL: the part of an identity that says where. */
  where: (url: URL) => string;
  rateLimitMaxQueue: number;
  /** The share (0–1) of each window one caller may hold; the default 0.6 (see `sharesOf`). */
  rateLimitCallerShare?: number;
  circuit: CircuitOptions;
  metrics?: Metrics;
  connectionsPerOrigin?: number;
  /** The outbound proxy (HTTP_PROXY, HTTPS_PROXY, NO_PROXY): API and token calls alike go through it. */
  proxy?: HttpTransportOptions["proxy"];
  /** The shared tier: rate limits, pending response-ids and entities across replicas. */
  redis?: RedisLink;
  /** How long a failed token request is remembered (readiness probes and queries alike): see TokenCache. */
  tokenBackoff?: TokenBackoffOptions;
  /** What every entity store shares (the one cache). */
  storeCommon: StoreCommon;
  /** The one bound over every listing kept (LISTINGS_MAX_MB). */
  listings: ListingBudget;
}

/** A registered source and what its loaders read: the state its `start` made, or undefined when it is not configured. */
export interface StartedEntry {
  source: SourceDefinition;
  state: unknown;
}

/** One tenant's sources, started on the shared machinery with their own tokens, guards and cache keys. */
export interface TenantRuntime {
  id: string;
  name: string;
  /** Each source configured for this tenant, by its name. */
  sources: ReadonlyMap<SourceName, SourceRuntime>;
  /** Every registered source, configured for this tenant or not, with its state: the loaders' input. */
  started: readonly StartedEntry[];
}

/** The configured tenants; each one's sources start on first use (`get`), so an idle tenant never logs in. */
export interface TenantRuntimes {
  /** The configured tenant ids, in the file's order (one, `default`, without TENANTS_FILE). */
  readonly ids: readonly string[];
  /** A tenant's display name, without starting it. */
  nameOf(id: string): string | undefined;
  /** The tenant's runtime, started now if it was not; undefined for an id that is not configured. */
  get(id: string): TenantRuntime | undefined;
  /** The tenants started so far. */
  started(): readonly TenantRuntime[];
}

export interface Clients {
  /**
   * Each configured source's runtime, by its name, in a single-tenant deployment (started at once, as
   * before tenants); empty with several tenants, whose sources are in `tenants`.
   */
  sources: ReadonlyMap<SourceName, SourceRuntime>;
  /** What the loaders read in a single-tenant deployment (`sources`' state); unconfigured entries with several tenants. */
  started: readonly StartedEntry[];
  tenants: TenantRuntimes;
  pendingMemory: PendingMemory;
  close(): Promise<void>;
  /** Rejects every caller queued for a rate-limit slot with a retryable error (shutdown); the pool stays open. */
  drainQueues(): void;
}

/**
 * Builds the process-wide upstream machinery once (one pool, one sender) and starts every source on it:
 * each gets a kit named after it and builds its own client, token cache, guards and stores.
 */
export function createClients(options: ClientsOptions): Clients {
  const transport = new HttpTransport({ connectionsPerOrigin: options.connectionsPerOrigin, proxy: options.proxy });
  const log = options.log.child({ component: "upstream" });
  const metrics = options.metrics;
  /** Logs and counts each attempt; a tenant's sender names its tenant on every line. */
  const observerFor =
    (tenant?: string): AttemptObserver =>
    (e) => {
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
          tenant,
        },
        "upstream call",
      );
    };
  const observe = observerFor();
  const guardsFor = (
    source: SourceName,
    budgetName: string,
    windows: readonly RateWindow[],
    bucketOf?: (path: string) => string,
  ): SourceRuntime["guards"] => {
    const onWait = (ms: number) => metrics?.rateLimitWait.observe({ source }, ms / 1000);
    // One budget: in process, or shared by every replica through Redis under the source's (and bucket's) name.
    const budget = (bucket?: string): OutboundLimiter => {
      const local = new RateLimiter(
        source,
        [...windows],
        options.rateLimitMaxQueue,
        Date.now,
        options.redis ? undefined : onWait,
        options.rateLimitCallerShare,
      );
      return options.redis
        ? new SharedRateLimiter({
            local,
            link: options.redis,
            windows: [...windows],
            budget: `${source}:${budgetName}${bucket === undefined ? "" : `:${bucket}`}`,
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
  // Filled as the sources start; the sender reads a source's guards at each call.
  const guards: Partial<Record<SourceName, Required<SourceGuards>>> = {};
  metrics?.watchQueues(() =>
    (Object.entries(guards) as Array<[SourceName, Required<SourceGuards>]>).map(([source, g]) => [source, g.limiter.queueDepth]),
  );
  const tokenEvents = (source: SourceName, tenant?: string): TokenCacheEvents => ({
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
          tenant,
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

  const allGuards: Array<Partial<Record<SourceName, Required<SourceGuards>>>> = [guards];
  /**
   * Starts every registered source for one tenant. The `default` tenant (today's variables) uses the
   * process's sender and guards and its identities are spelled as before tenants, so a single-tenant
   * deployment keeps its Redis keys, budgets and cursors. Any other tenant gets its own sender (its own
   * guards: Defender's quota is per customer tenant) and its id in every identity (`where`), so budgets,
   * cache keys, pending ids and cursor keys never meet another tenant's, even with the same credentials.
   */
  const startTenant = (tenant: TenantConfig): TenantRuntime => {
    const isDefault = tenant.id === DEFAULT_TENANT;
    const ownGuards: Partial<Record<SourceName, Required<SourceGuards>>> = isDefault ? guards : {};
    if (!isDefault) allGuards.push(ownGuards);
    const tenantSender = isDefault
      ? sender
      : new RetryingSender(transport, new RetryPolicy(options.retry), options.attemptTimeoutMs, observerFor(tenant.id), ownGuards);
    const where = isDefault ? options.where : (url: URL) => `tenant:${tenant.id}|${options.where(url)}`;
    const sources = new Map<SourceName, SourceRuntime>();
    const started: StartedEntry[] = [];
    for (const source of options.sources) {
      const name = source.name;
      const own = options.config.sources[name];
      const kit: SourceKit = {
        connection: tenant.connections[name],
        settings: own?.settings,
        config: options.config,
        log: isDefault ? log : log.child({ tenant: tenant.id }),
        sender: tenantSender,
        where,
        fingerprint,
        redact: options.redact,
        onToken: options.onToken,
        guard: ({ identity, windows, bucketOf }) => {
          if (ownGuards[name]) throw new Error(`${name} asked for its guards twice`);
          const made = guardsFor(name, fingerprint(identity), windows, bucketOf);
          ownGuards[name] = made;
          return made;
        },
        tokenCache: (fetch) => new TokenCache(fetch, tokenEvents(name, isDefault ? undefined : tenant.id), options.tokenBackoff),
        pendingStore: (identity) =>
          options.redis ? new SharedPendingMemory(pendingMemory, options.redis, `${name}:${fingerprint(identity)}:`) : pendingMemory,
        store: <V>({
          keyPrefix,
          freshMs,
          fetchMany,
        }: {
          keyPrefix: string;
          freshMs: number;
          fetchMany: EntityStoreOptions<V>["fetchMany"];
        }) =>
          new EntityStore<V>({
            ...(options.storeCommon as Pick<EntityStoreOptions<V>, keyof StoreCommon>),
            source: name,
            keyPrefix,
            shared: options.redis && new SharedEntities(options.redis, keyPrefix, name),
            freshMs,
            fetchMany,
          }),
        storeCommon: options.storeCommon,
        redis: options.redis,
        // Listings are named alike in every tenant ("fleet"): another tenant's go under keys of its own.
        listings: isDefault ? options.listings : options.listings.scoped(`tenant:${tenant.id}|`),
        sharedListings: (keyPrefix) => options.redis && new SharedListings(options.redis, keyPrefix),
      };
      const made = source.start(kit);
      if (made) sources.set(name, made.runtime);
      started.push({ source, state: made?.state });
    }
    return { id: tenant.id, name: tenant.name, sources, started };
  };

  const configured = configuredTenants(options.config);
  const byId = new Map(configured.map((t) => [t.id, t]));
  const running = new Map<string, TenantRuntime>();
  const tenants: TenantRuntimes = {
    ids: configured.map((t) => t.id),
    nameOf: (id) => byId.get(id)?.name,
    get(id) {
      let runtime = running.get(id);
      if (runtime) return runtime;
      const tenant = byId.get(id);
      if (!tenant) return undefined;
      runtime = startTenant(tenant);
      running.set(id, runtime);
      return runtime;
    },
    started: () => [...running.values()],
  };
  // One tenant (today's deployments): started at once, as before tenants; several: each on first use.
  const single = configured.length === 1 ? tenants.get(configured[0]!.id)! : undefined;
  const sources = single?.sources ?? new Map<SourceName, SourceRuntime>();
  const started: readonly StartedEntry[] = single?.started ?? options.sources.map((source) => ({ source, state: undefined }));

  const closeLimiters = () => {
    for (const own of allGuards) for (const g of Object.values(own)) g?.limiter.close();
  };
  return {
    sources,
    started,
    tenants,
    pendingMemory,
    drainQueues: closeLimiters,
    close: async () => {
      closeLimiters();
      await transport.close();
    },
  };
}
