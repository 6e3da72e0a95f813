import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { SourceName } from "../upstream/source";

const CIRCUIT_VALUE = { closed: 0, "half-open": 1, open: 2 } as const;

/** A GraphQL name short enough to be a label value. */
export const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_OPERATION_LABELS = 100;
const MAX_OPERATION_LABELS_PER_CALLER = 20;

/** One tenant's source and how many calls wait for its rate-limit slots. */
export interface QueueDepth {
  tenant: string;
  source: SourceName;
  depth: number;
}

export interface OperationLabelOptions {
  /** METRICS_OPERATION_NAMES: the only operation names with a label of their own; none is added at run time. */
  operationNames?: readonly string[];
}

/**
 * Prometheus metrics (GET /metrics), one registry per gateway so tests and several gateways in one
 * process never mix their numbers. Names and labels are listed in the README.
 */
export class Metrics {
  readonly registry = new Registry();
  /** Operation names that have a label of their own (see operationLabel). */
  private readonly operations = new Set<string>();
  /** How many label values each caller introduced, so one caller cannot spend the whole budget. */
  private readonly introducedBy = new Map<string, number>();

  readonly requestDuration = new Histogram({
    name: "usergraph_graphql_request_duration_seconds",
    help: "GraphQL request duration, by operation name and outcome (success, partial, error).",
    labelNames: ["operation", "outcome"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20],
    registers: [this.registry],
  });
  readonly upstreamCalls = new Counter({
    name: "usergraph_upstream_calls_total",
    help: "HTTP attempts to a vendor, by source, phase (api, token), status (HTTP status, timeout or network), attempt number and tenant.",
    labelNames: ["source", "phase", "status", "attempt", "tenant"] as const,
    registers: [this.registry],
  });
  readonly upstreamDuration = new Histogram({
    name: "usergraph_upstream_call_duration_seconds",
    help: "Duration of one HTTP attempt to a vendor, by source, phase and tenant.",
    labelNames: ["source", "phase", "tenant"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly cacheLookups = new Counter({
    name: "usergraph_cache_lookups_total",
    help: "Entity lookups by source and result: hit (fresh in cache), miss (fetched), joined (shared an in-flight fetch), stale (served stale on a vendor error), shared_hit (fresh in Redis), shared_joined (waited for another replica's fetch); by tenant.",
    labelNames: ["source", "result", "tenant"] as const,
    registers: [this.registry],
  });
  /** Trusted documents (src/documents/): requests whose document no manifest registers, by what was done (logged, refused). */
  readonly untrustedDocuments = new Counter({
    name: "usergraph_untrusted_documents_total",
    help: "Requests whose document is not registered (TRUSTED_DOCUMENTS): answered and logged (log), or refused (enforce).",
    labelNames: ["action"] as const,
    registers: [this.registry],
  });
  /**
   * The fast path of registered documents (src/documents/fast-path.ts): requests it answered, and requests
   * naming a registered document that it handed to Apollo's pipeline (a GET, an unusual Accept, a refusal, …).
   */
  readonly fastPath = new Counter({
    name: "usergraph_fast_path_requests_total",
    help: "Requests naming a registered document: answered by the fast path (answered), or handed to the normal path (declined).",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  /** Read at scrape time from whatever `watch` registered, rather than updated on every change. */
  private cacheSize: () => { entries: number; bytes: number } = () => ({ entries: 0, bytes: 0 });
  private queueDepths: () => Iterable<QueueDepth> = () => [];
  private listingsSize: () => { entries: number; bytes: number } = () => ({ entries: 0, bytes: 0 });

  readonly cacheEntries: Gauge = new Gauge({
    name: "usergraph_cache_entries",
    help: "Entries in the entity cache.",
    registers: [this.registry],
    collect: (): void => this.cacheEntries.set(this.cacheSize().entries),
  });
  readonly cacheBytes: Gauge = new Gauge({
    name: "usergraph_cache_bytes",
    help: "Approximate bytes held by the entity cache.",
    registers: [this.registry],
    collect: (): void => this.cacheBytes.set(this.cacheSize().bytes),
  });
  readonly listingsBytes: Gauge = new Gauge({
    name: "usergraph_listings_bytes",
    help: "Approximate heap bytes of the vendor listings kept in process (bounded by LISTINGS_MAX_MB).",
    registers: [this.registry],
    collect: (): void => this.listingsBytes.set(this.listingsSize().bytes),
  });
  readonly listingsKept: Gauge = new Gauge({
    name: "usergraph_listings_kept",
    help: "Whole listings kept in process (a machine fleet, alert windows, counts, a user list).",
    registers: [this.registry],
    collect: (): void => this.listingsKept.set(this.listingsSize().entries),
  });
  readonly rateLimitWait = new Histogram({
    name: "usergraph_rate_limiter_wait_seconds",
    help: "Time a call waited for an outbound rate-limit slot, by source and tenant.",
    labelNames: ["source", "tenant"] as const,
    buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20],
    registers: [this.registry],
  });
  readonly rateLimitQueue: Gauge<"source" | "tenant"> = new Gauge({
    name: "usergraph_rate_limiter_queue_depth",
    help: "Calls waiting for an outbound rate-limit slot, by source and tenant.",
    labelNames: ["source", "tenant"] as const,
    registers: [this.registry],
    collect: (): void => {
      // Rebuilt at each scrape from the tenants running now: a tenant removed from TENANTS_FILE leaves no series.
      this.rateLimitQueue.reset();
      for (const { tenant, source, depth } of this.queueDepths()) {
        const labels = { source, tenant };
        this.rateLimitQueue.inc(labels, depth);
      }
    },
  });
  readonly circuitState = new Gauge({
    name: "usergraph_circuit_state",
    help: "Circuit breaker state by source and tenant: 0 closed, 1 half-open, 2 open.",
    labelNames: ["source", "tenant"] as const,
    registers: [this.registry],
  });
  readonly redisUp = new Gauge({
    name: "usergraph_redis_up",
    help: "1 while the shared tier (Redis) is connected, 0 while usergraph serves without it; absent when REDIS_URL is unset.",
    registers: [],
  });
  readonly tokenRefreshes = new Counter({
    name: "usergraph_token_refreshes_total",
    help: "Access tokens obtained from a vendor's token endpoint, by source and tenant.",
    labelNames: ["source", "tenant"] as const,
    registers: [this.registry],
  });

  readonly tokenFailures = new Counter({
    name: "usergraph_token_failures_total",
    help: "Failed token requests to a vendor's token endpoint, by source and tenant (each is remembered with backoff, not retried per caller).",
    labelNames: ["source", "tenant"] as const,
    registers: [this.registry],
  });

  readonly tenantsReloads = new Counter({
    name: "usergraph_tenants_reloads_total",
    help: "Reloads of TENANTS_FILE (SIGHUP), by outcome: applied, or refused (the file did not validate; the tenants in force are kept).",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });

  constructor(private readonly labelOptions: OperationLabelOptions = {}) {
    collectDefaultMetrics({ register: this.registry, prefix: "usergraph_" });
    for (const name of labelOptions.operationNames ?? []) this.operations.add(name);
  }

  private readonly callChildren = new Map<string, { inc: () => void }>();
  private readonly durationChildren = new Map<string, { observe: (v: number) => void }>();
  private readonly lookupChildren = new Map<string, { inc: (n: number) => void }>();

  /**
   * One upstream attempt of a tenant's source. Label children are cached: hashing the labels per call
   * showed in profiles. `tenant` is a configured tenant id (the caller never spells it: see clients.ts).
   */
  recordUpstreamCall(tenant: string, source: string, phase: string, status: string, attempt: number, seconds: number): void {
    const key = `${tenant}|${source}|${phase}|${status}|${attempt}`;
    let calls = this.callChildren.get(key);
    if (calls === undefined)
      this.callChildren.set(key, (calls = this.upstreamCalls.labels(source, phase, status, String(attempt), tenant)));
    calls.inc();
    const dkey = `${tenant}|${source}|${phase}`;
    let duration = this.durationChildren.get(dkey);
    if (duration === undefined) this.durationChildren.set(dkey, (duration = this.upstreamDuration.labels(source, phase, tenant)));
    duration.observe(seconds);
  }

  /**
   * Drops every series of a tenant no longer configured (removed from TENANTS_FILE, its last request over),
   * so the label stays bounded by the tenants in force, and a tenant added again starts from fresh series.
   */
  async forgetTenant(tenant: string): Promise<void> {
    for (const cache of [this.callChildren, this.durationChildren, this.lookupChildren])
      for (const key of cache.keys()) if (key.startsWith(`${tenant}|`)) cache.delete(key);
    const perTenant = [
      this.upstreamCalls,
      this.upstreamDuration,
      this.cacheLookups,
      this.rateLimitWait,
      this.circuitState,
      this.tokenRefreshes,
      this.tokenFailures,
    ] as const;
    for (const metric of perTenant) {
      const done = new Set<string>();
      for (const { labels } of (await metric.get()).values as Array<{ labels: Record<string, string | number | undefined> }>) {
        if (labels.tenant !== tenant) continue;
        // A histogram's buckets, sum and count share one series' labels but for `le`.
        const series = Object.fromEntries(Object.entries(labels).filter(([name]) => name !== "le")) as Record<string, string | number>;
        const key = JSON.stringify(series);
        if (done.has(key)) continue;
        done.add(key);
        (metric as { remove(labels: Record<string, string | number>): void }).remove(series);
      }
    }
  }

  /** Entity lookups of a tenant's source, by result (see cacheLookups); children cached as above. */
  countLookups(tenant: string, source: string, result: string, count: number): void {
    const key = `${tenant}|${source}|${result}`;
    let child = this.lookupChildren.get(key);
    if (child === undefined) this.lookupChildren.set(key, (child = this.cacheLookups.labels(source, result, tenant)));
    child.inc(count);
  }

  watchCache(size: () => { entries: number; bytes: number }): void {
    this.cacheSize = size;
  }

  watchListings(size: () => { entries: number; bytes: number }): void {
    this.listingsSize = size;
  }

  /** Registers usergraph_redis_up (only deployments with Redis have it) and sets it. */
  setRedisUp(up: boolean): void {
    if (this.registry.getSingleMetric("usergraph_redis_up") === undefined) this.registry.registerMetric(this.redisUp);
    this.redisUp.set(up ? 1 : 0);
  }

  /** Read at each scrape: every running tenant's sources and their callers waiting for a slot. */
  watchQueues(depths: () => Iterable<QueueDepth>): void {
    this.queueDepths = depths;
  }

  setCircuit(tenant: string, source: SourceName, state: keyof typeof CIRCUIT_VALUE): void {
    this.circuitState.set({ source, tenant }, CIRCUIT_VALUE[state]);
  }

  /**
   * Operation names come from clients, so a label of their own is earned: the operation parsed and
   * validated against the schema (anything else is `invalid`, whatever it called itself), the name is
   * well-formed (a GraphQL name of at most 64 characters), and there is room: at most 100 names in all,
   * at most 20 introduced by any one authenticated caller. Everything else is `other`. With
   * METRICS_OPERATION_NAMES the names are fixed at start-up and no client introduces any.
   */
  operationLabel(name: string | null | undefined, validated = true, caller?: string): string {
    if (!validated) return "invalid";
    if (!name) return "anonymous";
    if (this.operations.has(name)) return name;
    if (this.labelOptions.operationNames !== undefined) return "other";
    if (this.operations.size >= MAX_OPERATION_LABELS || !OPERATION_NAME.test(name)) return "other";
    if (caller !== undefined) {
      const introduced = this.introducedBy.get(caller) ?? 0;
      if (introduced >= MAX_OPERATION_LABELS_PER_CALLER) return "other";
      this.introducedBy.set(caller, introduced + 1);
    }
    this.operations.add(name);
    return name;
  }
}
