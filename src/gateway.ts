import "reflect-metadata";
import type { AddressInfo } from "node:net";
import type { DestinationStream, Logger } from "pino";
import { reloadTenants, type Config, type Env } from "./config";
import { DEMO_TENANTS, demoExampleVariables, withSimulatorTenants } from "./demo";
import { Authenticator } from "./auth/authenticator";
import { createLogger, Redactor } from "./observability/logger";
import { Metrics } from "./observability/metrics";
import { metricsPlacement, startMetricsListener, type MetricsListener } from "./observability/metrics-route";
import { buildAppSchema } from "./schema";
import { scopeResolversByTenant } from "./tenant-schema";
import type { GraphQLSchema } from "graphql";
import { buildSubgraphAppSchema } from "./federation/subgraph-schema";
import { createCache } from "./sources/stores";
import { ListingBudget } from "./store/listing-budget";
import { sources } from "./sources";
import type { EntityCache } from "./store/entity-cache";
import { RedisApqCache } from "./apq/apq-cache";
import { RedisLink } from "./store/redis-link";
import { createServer, type AppServer, type ShutdownSummary } from "./server";
import { startSimulator, type Simulator } from "./simulator/simulator";
import { createClients, type Clients, type StartedEntry } from "./sources/clients";
import { TrustedDocuments } from "./documents/trusted-documents";

export interface Gateway {
  /** http://host:port/graphql */
  url: string;
  config: Config;
  log: Logger;
  server: AppServer;
  /** Only in demo mode: the simulator of its first tenant (`default`). */
  simulator?: Simulator;
  /** Only in demo mode: each demo tenant's simulator, by tenant id (DEMO_TENANTS). */
  demoSimulators?: ReadonlyMap<string, Simulator>;
  clients: Clients;
  /** The one entity cache, and what each source's loaders read (the context's input). */
  stores: { cache: EntityCache; listings: ListingBudget; started: readonly StartedEntry[] };
  metrics: Metrics;
  /** Only with REDIS_URL. */
  redis?: RedisLink;
  /** The registered documents (TRUSTED_DOCUMENTS); `reload()` on SIGHUP. */
  trustedDocuments: TrustedDocuments;
  /**
   * SIGHUP: reads TENANTS_FILE again (with `env`'s secrets) and puts its tenants in force at once, or, when
   * the file does not validate, keeps the tenants in force and logs one error listing the problems. Says
   * whether it applied; false without TENANTS_FILE (nothing to reload).
   */
  reloadTenants(env: Env): boolean;
  /** Where GET /metrics is served (METRICS_PORT's listener, or the GraphQL port); undefined when it is off. */
  metricsUrl?: string;
  /** Graceful: finish in-flight requests, then close the pool and the simulator. Says whether any request went unanswered. */
  stop(): Promise<ShutdownSummary>;
}

/**
 * With TENANTS_FILE, resolvers below `tenant(id:)` read that tenant's loaders (src/tenant-schema.ts), however
 * many tenants the file lists now (a reload may add more); without it, the one tenant pays nothing.
 */
function tenantScoped(schema: GraphQLSchema, reloadable: boolean): GraphQLSchema {
  if (reloadable) scopeResolversByTenant(schema);
  return schema;
}

/** A busy port named by the variable that chose it, so the fix is obvious; any other error passes through. */
function portInUse(err: unknown, variable: "PORT" | "SIMULATOR_PORT", what: string, host: string, port: number): unknown {
  if ((err as NodeJS.ErrnoException)?.code !== "EADDRINUSE") return err;
  return new Error(
    `${variable}=${port} is already in use on ${host} (${what}): stop what listens there, or set ${variable} to a free port (0 picks one)`,
  );
}

export interface GatewayOptions {
  /** Where log lines go (stdout by default). */
  logDestination?: DestinationStream;
}

/**
 * Wires the whole service from a Config: logger with redaction, the simulator in demo mode, upstream
 * clients, schema and HTTP server, then listens. `main.ts` and the tests both start usergraph this way.
 */
export async function startGateway(input: Config, options: GatewayOptions = {}): Promise<Gateway> {
  const redactor = new Redactor();
  const log = createLogger({ level: input.logLevel, redactor, destination: options.logDestination });

  let simulator: Simulator | undefined;
  const simulators: Simulator[] = [];
  const closeSimulators = () => Promise.all(simulators.map((sim) => sim.close()));
  let config = input;
  if (config.demo) {
    // One simulator per demo tenant, each with its customer's data and credentials: the first on
    // SIMULATOR_PORT (as before tenants), the others on free ports.
    try {
      for (const [i, tenant] of DEMO_TENANTS.entries()) {
        const port = i === 0 ? config.simulatorPort : 0;
        simulators.push(
          await startSimulator({ port, latencyMs: config.simulatorLatencyMs, dataset: tenant.dataset }).catch((err: unknown) => {
            throw portInUse(err, "SIMULATOR_PORT", "the demo's vendor simulator", "127.0.0.1", port);
          }),
        );
      }
    } catch (err) {
      await closeSimulators();
      throw err;
    }
    simulator = simulators[0];
    config = withSimulatorTenants(config, simulators);
  }
  if (config.auth.jwt?.secret) redactor.addSecret(new TextDecoder().decode(config.auth.jwt.secret));
  for (const key of config.auth.apiKeys) redactor.addSecret(key.clear);

  if (config.metrics.token) redactor.addSecret(config.metrics.token);
  const proxy = config.outboundProxy;
  if (proxy) {
    for (const url of [proxy.http, proxy.https]) for (const secret of url?.secrets ?? []) redactor.addSecret(secret);
    log.info(
      { component: "upstream", httpProxy: proxy.http?.display, httpsProxy: proxy.https?.display, noProxy: proxy.noProxy || undefined },
      "vendor calls go through the outbound proxy, except to the hosts NO_PROXY names",
    );
  }
  const metrics = new Metrics({ operationNames: config.metrics.operationNames });
  // Before anything listens: a manifest that does not load stops start-up (fail closed in enforce mode).
  let trustedDocuments: TrustedDocuments;
  try {
    // Each tenant's own manifests (TENANTS_FILE `documents`) are trusted for its callers only.
    const { mode, manifests } = config.trustedDocuments;
    trustedDocuments = new TrustedDocuments(mode, manifests, log, metrics, undefined, config.tenants ?? []);
  } catch (err) {
    await closeSimulators();
    throw err;
  }
  const metricsExposure = { ...config.metrics, production: config.production };
  let metricsListener: MetricsListener | undefined;
  let redis: RedisLink | undefined;
  if (config.redis) {
    const url = new URL(config.redis.url);
    redactor.addSecret(decodeURIComponent(url.password));
    redactor.addSecret(config.redis.url);
    redis = new RedisLink(config.redis, log, (status) => metrics.setRedisUp(status === "up"));
    metrics.setRedisUp(false);
    // Start-up does not wait for Redis for long: without it usergraph serves in process and reconnects.
    if (!(await redis.waitUntilReady(2_000))) {
      log.warn(
        { component: "redis" },
        "redis not reachable at start-up: serving with in-process cache and rate limits, reconnecting in the background",
      );
    }
  }
  // The demo's simulator listens on a new port each start; an identity leaves the port out, so demo list
  // cursors (signed with a key derived from it) survive a restart and the README's example reproduces.
  const where = (url: URL) => (config.demo ? "demo-simulator" : url.href);
  let clients: Clients | undefined;
  let stores: Gateway["stores"] | undefined;
  let server: AppServer | undefined;
  try {
    const cache = createCache({ maxEntries: config.cacheMaxEntries, maxBytes: config.cacheMaxBytes });
    // LISTINGS_MAX_MB: one bound over every listing every source keeps (store/listing-budget.ts).
    const listings = new ListingBudget(config.listingsMaxBytes);
    // Every registered source starts on the shared machinery and reads its own settings from the config.
    clients = createClients({
      sources: sources(),
      config,
      where,
      attemptTimeoutMs: config.upstreamTimeoutMs,
      retry: { maxRetries: config.upstreamMaxRetries, baseDelayMs: config.upstreamRetryBaseMs, maxDelayMs: config.upstreamRetryMaxMs },
      log,
      onToken: (token) => redactor.addToken(token),
      redact: (secret) => redactor.addSecret(secret),
      rateLimitMaxQueue: config.rateLimitMaxQueue,
      rateLimitCallerShare: config.rateLimitCallerShare,
      circuit: {
        minimumRequests: config.circuitFailureThreshold,
        failureRate: config.circuitFailureRate,
        windowMs: config.circuitWindowMs,
        openMs: config.circuitOpenMs,
      },
      metrics,
      connectionsPerOrigin: config.upstreamConnections,
      proxy: proxy && { httpProxy: proxy.http?.href, httpsProxy: proxy.https?.href, noProxy: proxy.noProxy },
      tokenBackoff: config.tokenBackoff,
      redis,
      storeCommon: {
        cache,
        negativeMs: config.cacheNegativeTtlMs,
        staleIfErrorMs: config.cacheStaleIfErrorMs,
        // Lookups are counted per tenant by createClients (usergraph_cache_lookups_total's `tenant`).
      },
      listings,
    });
    stores = { cache, listings, started: clients.started };
    const openTenants = clients.tenants;
    metrics.watchCache(() => ({ entries: cache.entries, bytes: cache.bytes }));
    metrics.watchListings(() => ({ entries: listings.entries, bytes: listings.bytes }));
    server = await createServer({
      schema: config.federationSubgraph ? await buildSubgraphAppSchema() : tenantScoped(await buildAppSchema(), clients.tenants.reloadable),
      log,
      landingPage: config.sandbox,
      introspection: config.introspection,
      hideSchemaHints: config.production,
      trustProxy: config.trustProxy,
      shutdownGraceMs: config.shutdownGraceMs,
      authenticator: config.auth.open ? undefined : new Authenticator(config.auth),
      // `tenants { … }` is priced once per tenant in force (a reload changes how many).
      limits: Object.defineProperty({ ...config.limits }, "tenants", { get: () => openTenants.ids.length, enumerable: true }),
      maxBodyBytes: config.maxBodyBytes,
      requestTimeoutMs: config.requestDeadlineMs + 10_000,
      corsOrigins: config.corsOrigins,
      metrics,
      metricsOnThisPort: metricsPlacement(metricsExposure) === "graphql-port",
      metricsToken: config.metrics.token,
      redisHealth: redis && (() => redis!.health()),
      apqCache: redis && new RedisApqCache(redis),
      explorer: config.explorer
        ? {
            sandbox: config.sandbox,
            authRequired: !config.auth.open,
            introspection: config.introspection,
            exampleVariables: config.demo ? demoExampleVariables() : undefined,
          }
        : undefined,
      gate: {
        callerLimit: config.callerRateLimit,
        authFailureLimit: config.authFailureLimit,
        redis: redis && { client: redis.client, prefix: redis.prefix },
      },
      probes: [...clients.sources].map(([source, runtime]) => ({ source, token: runtime.token, circuit: runtime.guards.circuit })),
      tenantProbes: clients.tenants.reloadable
        ? () =>
            openTenants.started().flatMap((t) =>
              [...t.sources].map(([source, runtime]) => ({
                tenant: t.id,
                source,
                token: runtime.token,
                circuit: runtime.guards.circuit,
              })),
            )
        : undefined,
      contextDeps: {
        started: stores.started,
        tenants: clients.tenants,
        requestDeadlineMs: config.requestDeadlineMs,
        log,
        maxListIds: config.limits.maxListIds,
        // The demo only: a caller whose credential names no tenant sees both and asks root fields of the first.
        demoRootTenant: config.demo ? DEMO_TENANTS[0]!.id : undefined,
      },
      trustedDocuments,
      compileDocuments: config.trustedDocuments.compiled,
    });
    await server.app.listen({ port: config.port, host: config.host }).catch((err: unknown) => {
      throw portInUse(err, "PORT", "usergraph's GraphQL endpoint", config.host, config.port);
    });
    if (config.metrics.port !== undefined)
      metricsListener = await startMetricsListener(metrics, { ...metricsExposure, port: config.metrics.port });
  } catch (err) {
    await server?.stop().catch(() => {});
    await clients?.close().catch(() => {});
    await redis?.close();
    await closeSimulators();
    throw err;
  }

  const { port } = server.app.server.address() as AddressInfo;
  const shownHost = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
  const started = server;
  const openClients = clients;
  const openMetricsListener = metricsListener;
  const baseUrl = `http://${shownHost.includes(":") ? `[${shownHost}]` : shownHost}:${port}`;
  let stopping: Promise<ShutdownSummary> | undefined;
  return {
    url: `${baseUrl}/graphql`,
    config,
    log,
    server: started,
    simulator,
    demoSimulators: config.demo ? new Map(DEMO_TENANTS.map((t, i) => [t.id, simulators[i]!])) : undefined,
    clients: openClients,
    stores,
    metrics,
    redis,
    trustedDocuments,
    reloadTenants(env) {
      if (!openClients.tenants.reloadable) return false;
      const at = { component: "tenants" };
      const { tenants, problems } = reloadTenants(env);
      if (problems.length > 0) {
        metrics.tenantsReloads.inc({ outcome: "refused" });
        // The problems name the file's fields and variables, never a secret's value (src/tenants-file.ts).
        log.error({ ...at, problems }, "TENANTS_FILE NOT reloaded: the tenants in force are unchanged");
        return false;
      }
      const change = openClients.tenants.reload(tenants);
      metrics.tenantsReloads.inc({ outcome: "applied" });
      // The trusted documents follow: each tenant's own manifests (TENANTS_FILE `documents`) with the global ones.
      trustedDocuments.reload(tenants);
      log.info({ ...at, tenants: tenants.length, ...change }, "TENANTS_FILE reloaded");
      return true;
    },
    metricsUrl: metricsPlacement(metricsExposure) === "off" ? undefined : (openMetricsListener?.url ?? `${baseUrl}/metrics`),
    // Once: a second call (a signal during shutdown, a test's cleanup after its own stop) waits for the
    // same shutdown instead of closing the pool and the listeners twice.
    stop() {
      return (stopping ??= (async () => {
        await openMetricsListener?.close();
        // A second before the grace period ends, callers still queued for a vendor slot are answered with a
        // retryable RATE_LIMITED ("shutting down") through GraphQL, keeping whatever data they already have.
        const summary = await started.stop(() => openClients.drainQueues());
        await openClients.close();
        await redis?.close();
        await closeSimulators();
        log.flush();
        return summary;
      })());
    },
  };
}
