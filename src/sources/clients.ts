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
import type { Deadline } from "../upstream/deadline";
import { isDeepStrictEqual } from "node:util";
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
  /** The configured tenant ids, in the file's order (one, `default`, without TENANTS_FILE); a reload replaces them. */
  readonly ids: readonly string[];
  /**
   * The tenants come from TENANTS_FILE, and `reload` may change them: every tenant starts on first use and
   * requests go the multi-tenant way. False without the file: the one tenant `default`, started at once.
   */
  readonly reloadable: boolean;
  /** A tenant's display name, without starting it. */
  nameOf(id: string): string | undefined;
  /**
   * The tenant's runtime, started now if it was not; undefined for an id that is not configured. With
   * `holder`, the runtime stays open until that request's lifetime is over, even if a reload retires it.
   */
  get(id: string, holder?: Deadline): TenantRuntime | undefined;
  /** The tenants started so far (and not retired by a reload). */
  started(): readonly TenantRuntime[];
  /**
   * Puts a new list of tenants in force at once (SIGHUP). Added ones start on first use; a removed tenant is
   * gone for every new request (FORBIDDEN), and a tenant whose connection changed (a rotated secret, another
   * URL) starts afresh on its next use. The runtimes they had are retired: out of `started()` at once, and
   * closed (limiters, timers) when their last request in flight is over.
   */
  reload(next: readonly TenantConfig[]): TenantsReloaded;
  /** Runtimes retired by a reload that requests in flight still hold. */
  retiring(): number;
}

/** What a reload changed, by tenant id. */
export interface TenantsReloaded {
  added: string[];
  removed: string[];
  /** Connection changed (credentials, URLs): restarted on next use. */
  restarted: string[];
}

export interface Clients {
  /**
   * Each configured source's runtime, by its name, in a single-tenant deployment (started at once, as
   * before tenants); empty with TENANTS_FILE, whose tenants' sources are in `tenants`.
   */
  sources: ReadonlyMap<SourceName, SourceRuntime>;
  /** What the loaders read in a single-tenant deployment (`sources`' state); unconfigured entries with TENANTS_FILE. */
  started: readonly StartedEntry[];
  tenants: TenantRuntimes;
  pendingMemory: PendingMemory;
  close(): Promise<void>;
  /** Rejects every caller queued for a rate-limit slot with a retryable error (shutdown); the pool stays open. */
  drainQueues(): void;
}

/** A started tenant: its runtime, its guards (for the queue gauge and closing), and who holds it. */
interface Running {
  runtime: TenantRuntime;
  guardSet: { tenant: string; own: Partial<Record<SourceName, Required<SourceGuards>>> };
  /** Requests in flight that use it. */
  holds: number;
  /** Out of service since a reload; closed when `holds` reaches 0. */
  retired: boolean;
}

/**
 * Builds the process-wide upstream machinery once (one pool, one sender) and starts every source on it:
 * each gets a kit named after it and builds its own client, token cache, guards and stores.
 */
export function createClients(options: ClientsOptions): Clients {
  const transport = new HttpTransport({ connectionsPerOrigin: options.connectionsPerOrigin, proxy: options.proxy });
  const log = options.log.child({ component: "upstream" });
  const metrics = options.metrics;
  /**
   * Logs and counts each attempt. The metric's `tenant` is the configured id whose sender made the call
   * (`default` without TENANTS_FILE); a tenant of the file is also named on every log line (`logTenant`).
   */
  const observerFor =
    (tenant: string, logTenant: boolean): AttemptObserver =>
    (e) => {
      metrics?.recordUpstreamCall(tenant, e.source, e.phase, String(e.status ?? e.error), e.attempt, e.durationMs / 1000);
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
          tenant: logTenant ? tenant : undefined,
        },
        "upstream call",
      );
    };
  const observe = observerFor(DEFAULT_TENANT, false);
  const guardsFor = (
    tenant: string,
    source: SourceName,
    budgetName: string,
    windows: readonly RateWindow[],
    bucketOf?: (path: string) => string,
  ): SourceRuntime["guards"] => {
    const onWait = (ms: number) => metrics?.rateLimitWait.observe({ source, tenant }, ms / 1000);
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
    metrics?.setCircuit(tenant, source, "closed");
    const circuit = new CircuitBreaker(source, options.circuit, (state: CircuitState) => {
      metrics?.setCircuit(tenant, source, state);
      log[state === "closed" ? "info" : "warn"](
        { source, circuit: state, tenant: tenant === DEFAULT_TENANT ? undefined : tenant },
        `circuit ${state}`,
      );
    });
    return { limiter, circuit };
  };
  // Filled as the sources start; the sender reads a source's guards at each call.
  const guards: Partial<Record<SourceName, Required<SourceGuards>>> = {};
  /** Every started tenant's guards, by the tenant's id: the queue-depth gauge and shutdown read them. */
  const allGuards = new Set<{ tenant: string; own: Partial<Record<SourceName, Required<SourceGuards>>> }>();
  metrics?.watchQueues(function* () {
    for (const { tenant, own } of allGuards)
      for (const [source, g] of Object.entries(own) as Array<[SourceName, Required<SourceGuards>]>)
        yield { tenant, source, depth: g.limiter.queueDepth };
  });
  const tokenEvents = (source: SourceName, tenant: string, logTenant: boolean): TokenCacheEvents => ({
    onNewToken: (token) => {
      options.onToken(token);
      metrics?.tokenRefreshes.inc({ source, tenant });
    },
    // One line per failed token request (not per caller served the remembered failure).
    onFailure: (err, retryInMs, servingCurrent) => {
      metrics?.tokenFailures.inc({ source, tenant });
      const e = err instanceof UpstreamError ? err : undefined;
      log.warn(
        {
          source,
          tenant: logTenant ? tenant : undefined,
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

  /**
   * Starts every registered source for one tenant. The `default` tenant (today's variables) uses the
   * process's sender and guards and its identities are spelled as before tenants, so a single-tenant
   * deployment keeps its Redis keys, budgets and cursors. Any other tenant gets its own sender (its own
   * guards: Defender's quota is per customer tenant) and its id in every identity (`where`), so budgets,
   * cache keys, pending ids and cursor keys never meet another tenant's, even with the same credentials.
   */
  const startTenant = (tenant: TenantConfig): Running => {
    // Without TENANTS_FILE: the deployment's first tenant (its only one, or the demo's `default`) keeps the
    // process's sender, guards and identities as before tenants; the demo's second tenant gets its own.
    const isDefault = !reloadable && tenant.id === configured[0]!.id;
    const ownGuards: Partial<Record<SourceName, Required<SourceGuards>>> = isDefault ? guards : {};
    const guardSet = { tenant: tenant.id, own: ownGuards };
    allGuards.add(guardSet);
    const tenantSender = isDefault
      ? sender
      : new RetryingSender(
          transport,
          new RetryPolicy(options.retry),
          options.attemptTimeoutMs,
          observerFor(tenant.id, true),
          ownGuards,
          tenant.id,
        );
    // Cache lookups counted under the tenant's id (a configured one: metric labels stay bounded).
    const storeCommon: StoreCommon = metrics
      ? { ...options.storeCommon, observe: (source, result, count) => metrics.countLookups(tenant.id, source, result, count) }
      : options.storeCommon;
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
          const made = guardsFor(tenant.id, name, fingerprint(identity), windows, bucketOf);
          ownGuards[name] = made;
          return made;
        },
        tokenCache: (fetch) => new TokenCache(fetch, tokenEvents(name, tenant.id, !isDefault), options.tokenBackoff),
        pendingStore: (identity) =>
          options.redis
            ? new SharedPendingMemory(pendingMemory, options.redis, `${name}:${fingerprint(identity)}:`)
            : pendingMemory.within(`${name}:${fingerprint(identity)}:`),
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
            ...(storeCommon as Pick<EntityStoreOptions<V>, keyof StoreCommon>),
            source: name,
            keyPrefix,
            shared: options.redis && new SharedEntities(options.redis, keyPrefix, name),
            freshMs,
            fetchMany,
          }),
        storeCommon,
        redis: options.redis,
        // One bound for every tenant's listings, each tenant's kept under its id (the default tenant's as before).
        listings: isDefault ? options.listings : options.listings.within(`tenant:${tenant.id}`),
        sharedListings: (keyPrefix) => options.redis && new SharedListings(options.redis, keyPrefix),
      };
      const made = source.start(kit);
      if (made) sources.set(name, made.runtime);
      started.push({ source, state: made?.state });
    }
    return { runtime: { id: tenant.id, name: tenant.name, sources, started }, guardSet, holds: 0, retired: false };
  };

  const configured = configuredTenants(options.config);
  // TENANTS_FILE's tenants change on SIGHUP; the demo's (src/demo.ts) are fixed.
  const reloadable = options.config.tenants !== undefined && !options.config.demo;
  let byId = new Map(configured.map((t) => [t.id, t]));
  let ids: readonly string[] = configured.map((t) => t.id);
  const running = new Map<string, Running>();
  const retired = new Set<Running>();
  /** A retired runtime's last request is over: its limiters (and their timers) close, its series go. */
  const close = (r: Running) => {
    retired.delete(r);
    allGuards.delete(r.guardSet);
    for (const g of Object.values(r.guardSet.own)) g?.limiter.close();
    // A tenant no longer configured leaves no series behind (one restarted keeps its own: same labels).
    if (!byId.has(r.runtime.id)) void metrics?.forgetTenant(r.runtime.id);
  };
  const tenants: TenantRuntimes = {
    get ids() {
      return ids;
    },
    reloadable,
    nameOf: (id) => byId.get(id)?.name,
    get(id, holder) {
      let r = running.get(id);
      if (!r) {
        const tenant = byId.get(id);
        if (!tenant) return undefined;
        r = startTenant(tenant);
        running.set(id, r);
      }
      if (holder && reloadable) {
        const held = r;
        held.holds++;
        holder.whenOver(() => {
          if (--held.holds === 0 && held.retired) close(held);
        });
      }
      return r.runtime;
    },
    started: () => [...running.values()].map((r) => r.runtime),
    reload(next) {
      const nextById = new Map(next.map((t) => [t.id, t]));
      const change: TenantsReloaded = { added: [], removed: [], restarted: [] };
      for (const [id, old] of byId) {
        const now = nextById.get(id);
        if (!now) change.removed.push(id);
        else if (!isDeepStrictEqual(old.connections, now.connections)) change.restarted.push(id);
      }
      for (const id of nextById.keys()) if (!byId.has(id)) change.added.push(id);
      // All at once, between two requests' steps: no request sees half of the old list and half of the new.
      byId = nextById;
      ids = next.map((t) => t.id);
      for (const id of [...change.removed, ...change.restarted]) {
        const r = running.get(id);
        if (!r) continue;
        running.delete(id);
        r.retired = true;
        if (r.holds === 0) close(r);
        else retired.add(r);
      }
      return change;
    },
    retiring: () => retired.size,
  };
  // Without TENANTS_FILE (today's deployments): the one tenant started at once, as before tenants; with it,
  // each tenant on first use.
  const single = reloadable ? undefined : tenants.get(configured[0]!.id)!;
  const sources = single?.sources ?? new Map<SourceName, SourceRuntime>();
  const started: readonly StartedEntry[] = single?.started ?? options.sources.map((source) => ({ source, state: undefined }));

  const closeLimiters = () => {
    for (const { own } of allGuards) for (const g of Object.values(own)) g?.limiter.close();
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
