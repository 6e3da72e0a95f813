import { BlockList, isIP } from "node:net";
import { parseApiKeys, type AuthOptions } from "./auth/authenticator";
// The registered sources: each declares its variables, and their scopes are what AUTH_API_KEYS may name.
import { sources } from "./sources";
import type { SourceName } from "./upstream/source";
import type { OperationLimits } from "./limits/operation-limits";
import { parseRateWindows, type RateWindow } from "./upstream/rate-limiter";
import { ManifestError, readManifest } from "./documents/registry";
import { DEFAULT_TENANT, readTenantsFile, type TenantConfig } from "./tenants-file";
import { DEMO_TENANTS } from "./demo";

export type { TenantConfig };

/**
 * Configuration: the only module that reads environment variables. `loadConfig` returns a frozen, typed
 * Config or throws one ConfigError that lists every problem at once (never a secret's value).
 */

/** One source's configuration: its connection (credentials and URLs; absent: not configured) and its other settings. */
export interface SourceConfig {
  connection?: unknown;
  settings: unknown;
}

/**
 * What a source reads from the environment, declared by the source (its register.ts `config`, e.g.
 * src/sources/eset/config.ts): config.ts stays the only reader of the environment and names no variable of
 * a source.
 */
export interface SourceConfigSpec<Connection = unknown, Settings = unknown> {
  /** The variables that carry its credentials: any of them set means an operator meant to configure a source (no demo). */
  credentialVariables: readonly string[];
  /** Its connection, or undefined when none of its credential variables is set (a partial set is a problem). */
  connection(read: Reader, env: Env, problems: string[]): Connection | undefined;
  /**
   * How a tenant's entry in TENANTS_FILE spells the connection: its key in the entry (e.g. "defender") and
   * each field with the variable it stands for; a `secret` field names the environment variable holding the
   * secret. `connection` reads the entry through these (src/tenants-file.ts). Without it, the source cannot
   * be configured per tenant.
   */
  tenant?: { key: string; fields: Readonly<Record<string, { variable: string; secret?: boolean }>> };
  /**
   * Its other settings; `cacheTtlSeconds` (CACHE_TTL_SECONDS) is the default of a TTL of its own. `maxCost`
   * is the value of its own cost cap (its `costLimit`), `maxListIds` the limit of each of its id-list fields.
   */
  settings(
    read: Reader,
    defaults: { cacheTtlSeconds: number },
  ): { settings: Settings; maxCost?: number; maxListIds?: Record<string, number> };
}

export interface Config {
  port: number;
  host: string;
  /** No source has credentials (or DEMO=1): run the built-in simulator and point the sources at it. */
  demo: boolean;
  /** With DEMO=1: the vendor credential variables that are set but not used (names only, never values). */
  ignoredByDemo: string[];
  /** Each registered source's connection and settings, by its name (what it declared in its `config`). */
  sources: Readonly<Record<SourceName, SourceConfig>>;
  /**
   * TENANTS_FILE's tenants (docs/tenants.md), or in demo mode the demo's (DEMO_TENANTS, set by the gateway
   * once their simulators listen); absent otherwise, when today's variables make the one tenant `default`
   * (see `configuredTenants`).
   */
  tenants?: readonly TenantConfig[];
  upstreamTimeoutMs: number;
  requestDeadlineMs: number;
  upstreamMaxRetries: number;
  upstreamRetryBaseMs: number;
  upstreamRetryMaxMs: number;
  /** Keep-alive sockets per vendor host. */
  upstreamConnections: number;
  logLevel: string;
  simulatorPort: number;
  simulatorLatencyMs: number;
  rateLimitMaxQueue: number;
  /** The share (0–1) of each outbound window one caller may hold (see `sharesOf`). */
  rateLimitCallerShare: number;
  cacheNegativeTtlMs: number;
  cacheStaleIfErrorMs: number;
  cacheMaxEntries: number;
  cacheMaxBytes: number;
  /** LISTINGS_MAX_MB in bytes: the bound of every listing kept in process (store/listing-budget.ts). */
  listingsMaxBytes: number;
  /** ALERT_DELTA_SECONDS in ms: the fleet views' alert window is refreshed by delta once this old (0: never). */
  alertDeltaMs: number;
  /** Fewest requests to a source in the window before its failure rate can open the circuit. */
  circuitFailureThreshold: number;
  /** Failure rate (0–1) over the window above which the circuit opens. */
  circuitFailureRate: number;
  circuitWindowMs: number;
  circuitOpenMs: number;
  shutdownGraceMs: number;
  /** After a failed token request, how long before the next one (exponential with jitter, from base to max). */
  tokenBackoff: { baseMs: number; maxMs: number; maxTransientMs: number };
  /** Client authentication; `open` when none is configured (demo mode, or AUTH_MODE=none on purpose). */
  auth: AuthOptions & { open: boolean };
  production: boolean;
  introspection: boolean;
  sandbox: boolean;
  /** The offline GraphiQL page at /explorer (GRAPHQL_EXPLORER; on by default outside production). */
  explorer: boolean;
  corsOrigins: string[];
  limits: OperationLimits;
  maxBodyBytes: number;
  /** Requests one caller (API key, JWT subject; client address when the endpoint is open) may send per window; undefined = off. */
  callerRateLimit?: RateWindow;
  /** Failed authentications one client address may make per window before it gets 429; undefined = off. */
  authFailureLimit?: RateWindow;
  /**
   * fastify's trustProxy: which proxy addresses, or (only with TRUST_PROXY_PORT_PRIVATE=1) how many proxy
   * hops, may name the client in X-Forwarded-For; false = none.
   */
  trustProxy: false | number | string[];
  /** Serve the Apollo Federation 2 subgraph schema (`_service`, `_entities`, `@key`) instead of the standalone one. */
  federationSubgraph: boolean;
  /** Who may read /metrics: its own listener (port, host), a bearer token; see metrics-route.ts. */
  metrics: { port?: number; host: string; token?: string; operationNames?: string[] };
  /** The shared tier (cache, rate limits, single flight, pending ids, APQ) for several replicas; absent = in process only. */
  redis?: RedisConfig;
  /** The outbound proxy to the vendors (HTTP_PROXY, HTTPS_PROXY, NO_PROXY); absent = connect directly. */
  outboundProxy?: OutboundProxyConfig;
  /** Trusted documents (src/documents/): what is done with a document no manifest registers, and the manifests. */
  trustedDocuments: { mode: TrustedDocumentsMode; manifests: string[]; compiled: boolean };
}

/** `off`: any document runs; `log`: unregistered ones run and are logged and counted; `enforce`: they are refused. */
export type TrustedDocumentsMode = "off" | "log" | "enforce";

/**
 * Where vendor calls (API and token endpoints alike) go through a proxy. Chosen per target URL the way
 * undici's EnvHttpProxyAgent chooses: `https` for https:// URLs, `http` for http:// ones, none for a host
 * that NO_PROXY names.
 */
export interface OutboundProxyConfig {
  /** For http:// vendor URLs (only loopback test servers are allowed plain http). */
  http?: ProxyUrl;
  /** For https:// vendor URLs: HTTPS_PROXY, else HTTP_PROXY. */
  https?: ProxyUrl;
  /** Hosts reached directly: comma- or space-separated names (a leading dot or `*.` for subdomains), `host:port`, or `*`. */
  noProxy: string;
}

/**
 * A proxy URL that may carry `user:password`. Only `href` holds them (for the dispatcher); JSON, logs and
 * util.inspect see `display`, the URL without them, so a dumped Config never shows the password.
 */
export class ProxyUrl {
  readonly #href: string;
  /** scheme://host:port, without credentials: what logs and dumps show. */
  readonly display: string;
  /** The password and the Basic credentials built from it, for the log redactor. */
  readonly secrets: readonly string[];

  constructor(url: URL) {
    this.#href = url.href;
    this.display = `${url.protocol}//${url.host}`;
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    this.secrets = password === "" ? [] : [password, url.password, Buffer.from(`${user}:${password}`).toString("base64")];
  }

  get href(): string {
    return this.#href;
  }

  toJSON(): string {
    return this.display;
  }

  toString(): string {
    return this.display;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `ProxyUrl(${this.display})`;
  }
}

export interface RedisConfig {
  /** redis:// or rediss:// URL; may carry a password, which is redacted from logs like every secret. */
  url: string;
  /** Prefix of every key usergraph writes, so deployments (and tests) can share one Redis. */
  keyPrefix: string;
  /** A Redis command slower than this counts as a failure: usergraph goes on without Redis for that call. */
  commandTimeoutMs: number;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: readonly string[]) {
    super(
      `usergraph cannot start: the configuration has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
  }
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

export type Env = Readonly<Record<string, string | undefined>>;

export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const read = new Reader(env, problems);

  const demoFlag = read.bool("DEMO", false);
  const registered = sources();
  const connections = registered.map((source) => source.config.connection(read, env, problems));
  const credentialVariables = registered.flatMap((source) => source.config.credentialVariables);
  const anyCredential = credentialVariables.some((name) => (env[name] ?? "").trim() !== "");
  const tenantsFile = env.TENANTS_FILE?.trim() || undefined;
  let tenants: TenantConfig[] | undefined;
  if (tenantsFile) {
    // One place says whose credentials are used: with the file, the single-tenant variables would be a second.
    if (anyCredential)
      problems.push(
        `TENANTS_FILE is set, and so are ${credentialVariables.filter((n) => (env[n] ?? "").trim() !== "").join(", ")}: each tenant's credentials come from the file; unset these`,
      );
    if (demoFlag) problems.push("DEMO=1 contradicts TENANTS_FILE: the demo serves the built-in simulator only");
    tenants = readTenantsFile(tenantsFile, env, registered, (e, p) => new Reader(e, p), problems);
  }
  const noConnection = tenants ? tenants.every((t) => Object.keys(t.connections).length === 0) : connections.every((c) => c === undefined);
  const demo = !tenants && (demoFlag || (noConnection && !anyCredential));
  // DEMO=0 (a deployment's manifest) forbids the demo fallback: a Secret that lost its keys must stop
  // start-up, not serve the simulator's made-up users with the production API keys in front of them.
  const demoRefused = !demoFlag && ["0", "false", "no", "off"].includes((env.DEMO ?? "").trim().toLowerCase());
  if (demo && demoRefused) {
    problems.push(`DEMO=0 but no vendor credentials are set: set ${credentialVariables.join(", ")} (or unset DEMO to run the demo)`);
  }
  const cacheTtlSeconds = read.int("CACHE_TTL_SECONDS", 60, 0, 86_400);
  const own = registered.map((source) => source.config.settings(read, { cacheTtlSeconds }));
  const production = (env.NODE_ENV ?? "").trim() === "production";
  // In production unregistered documents are at least logged: the step before `enforce` (docs/security.md).
  const trustedMode = read.oneOf("TRUSTED_DOCUMENTS", ["off", "log", "enforce"], production ? "log" : "off") as TrustedDocumentsMode;

  const upstreamMaxRetries = read.int("UPSTREAM_MAX_RETRIES", 2, 0, 10);
  const config: Config = {
    port: read.int("PORT", 4000, 0, 65535),
    host: env.HOST?.trim() || (demo ? "127.0.0.1" : "0.0.0.0"),
    demo,
    ignoredByDemo: demo ? credentialVariables.filter((name) => (env[name] ?? "").trim() !== "") : [],
    sources: Object.fromEntries(
      registered.map((source, i) => [
        source.name,
        { connection: demo || tenants ? undefined : connections[i], settings: own[i]!.settings },
      ]),
    ),
    tenants,
    upstreamTimeoutMs: read.int("UPSTREAM_TIMEOUT_MS", 10_000, 1, 600_000),
    requestDeadlineMs: read.int("REQUEST_DEADLINE_MS", 20_000, 1, 600_000),
    upstreamMaxRetries,
    upstreamRetryBaseMs: read.int("UPSTREAM_RETRY_BASE_MS", 250, 0, 60_000),
    upstreamRetryMaxMs: read.int("UPSTREAM_RETRY_MAX_MS", 4_000, 0, 600_000),
    upstreamConnections: read.int("UPSTREAM_CONNECTIONS", 128, 1, 10_000),
    logLevel: read.oneOf("LOG_LEVEL", LOG_LEVELS, "info"),
    simulatorPort: read.int("SIMULATOR_PORT", 0, 0, 65535),
    simulatorLatencyMs: read.int("SIMULATOR_LATENCY_MS", 0, 0, 60_000),
    rateLimitMaxQueue: read.int("RATE_LIMIT_MAX_QUEUE", 1000, 0, 1_000_000),
    // 60%: a lone caller keeps most of each window, a second heavy caller still gets half as much, and the
    // last tenth stays for newcomers (docs/security.md, "A fair share of the vendors' quota").
    rateLimitCallerShare: read.int("RATE_LIMIT_CALLER_SHARE", 60, 1, 100) / 100,
    cacheNegativeTtlMs: 1000 * read.int("CACHE_NEGATIVE_TTL_SECONDS", 10, 0, 86_400),
    cacheStaleIfErrorMs: 1000 * read.int("CACHE_STALE_IF_ERROR_SECONDS", 0, 0, 86_400),
    cacheMaxEntries: read.int("CACHE_MAX_ENTRIES", 50_000, 1, 100_000_000),
    cacheMaxBytes: 1024 * 1024 * read.int("CACHE_MAX_MB", 64, 1, 1_000_000),
    listingsMaxBytes: 1024 * 1024 * read.int("LISTINGS_MAX_MB", 512, 1, 1_000_000),
    alertDeltaMs: 1000 * read.int("ALERT_DELTA_SECONDS", 60, 0, 86_400),
    circuitFailureThreshold: read.int("CIRCUIT_FAILURE_THRESHOLD", 5, 1, 1_000_000),
    circuitFailureRate: read.int("CIRCUIT_FAILURE_PERCENT", 50, 1, 99) / 100,
    circuitWindowMs: 1000 * read.int("CIRCUIT_WINDOW_SECONDS", 10, 1, 3_600),
    circuitOpenMs: 1000 * read.int("CIRCUIT_OPEN_SECONDS", 30, 1, 86_400),
    shutdownGraceMs: read.int("SHUTDOWN_GRACE_MS", 10_000, 0, 600_000),
    tokenBackoff: {
      baseMs: read.int("TOKEN_RETRY_BASE_MS", 1_000, 1, 600_000),
      // A refused credential (a rotated secret) backs off to 5 minutes: a login attempt per probe risks lockout.
      maxMs: 1000 * read.int("TOKEN_RETRY_MAX_SECONDS", 300, 1, 86_400),
      // An outage (5xx, timeout, network) backs off to 4 s at most, so service resumes within seconds of its end.
      maxTransientMs: 1000 * read.int("TOKEN_RETRY_TRANSIENT_MAX_SECONDS", 4, 1, 86_400),
    },
    // The demo serves its own tenants (src/demo.ts), so a key may name them (`key@woodgrove`).
    auth: readAuth(
      read,
      env,
      problems,
      demo || (noConnection && !tenants),
      tenants?.map((t) => t.id) ?? (demo ? DEMO_TENANTS.map((t) => t.id) : [DEFAULT_TENANT]),
    ),
    production,
    introspection: read.bool("GRAPHQL_INTROSPECTION", !production),
    sandbox: read.bool("GRAPHQL_SANDBOX", !production),
    explorer: read.bool("GRAPHQL_EXPLORER", !production),
    corsOrigins: (env.CORS_ORIGINS ?? "")
      .split(",")
      .map((o) => o.trim())
      .filter((o) => o !== ""),
    limits: {
      maxDepth: read.int("MAX_DEPTH", 10, 1, 1000),
      maxAliases: read.int("MAX_ALIASES", 30, 0, 100_000),
      maxFields: read.int("MAX_FIELDS", 20_000, 1, 10_000_000),
      maxDirectives: read.int("MAX_DIRECTIVES", 50, 0, 100_000),
      maxTokens: read.int("MAX_TOKENS", 5_000, 100, 10_000_000),
      // Priced in worst-case vendor calls: a source with a scarce budget caps its own calls (its settings).
      sourceCost: Object.fromEntries(
        registered.flatMap((source, i) => (own[i]!.maxCost === undefined ? [] : [[source.name, own[i]!.maxCost]])),
      ),
      // Every source together: 1,100 covers one full batch of 1000 unknown ESET uuids (1,011 calls at worst,
      // at ESET's 10 calls a second) and little more.
      maxCost: read.int("MAX_COST", 1_100, 1, 100_000_000),
      // Each attempt counts against a capped source's budget: room for one call's retries beyond its price.
      retryReserve: upstreamMaxRetries,
      maxListIds: Object.assign({}, ...own.map((o) => o.maxListIds ?? {})) as Record<string, number>,
      tenants: tenants?.length ?? 1,
    },
    // The largest request the operation limits let through is about 100 KB (an `_entities` call with the
    // largest id lists of the built-in sources: 1,000 uuids and 100 ids of 256 characters); 1,000 uuids in
    // variables are 39 KB.
    // 256 KiB leaves room for a long document beside them, and bounds what one request can make us read.
    maxBodyBytes: read.int("MAX_BODY_BYTES", 256 * 1024, 1024, 1024 * 1024 * 1024),
    // 50 requests a second per caller: far above what a dashboard or a BFF sends, low enough that one key
    // cannot take the gateway's CPU from everyone else (21,700 requests in 10 s from one key were seen).
    callerRateLimit: read.window("CALLER_RATE_LIMIT", "50/1s"),
    // A credential-guessing budget per address: a misconfigured client still gets its 401s with reasons.
    authFailureLimit: read.window("AUTH_FAILURE_LIMIT", "30/60s"),
    trustProxy: readTrustProxy(read, env, problems),
    federationSubgraph: read.bool("FEDERATION_SUBGRAPH", false),
    metrics: readMetrics(read, env, problems),
    redis: readRedis(read, env, problems),
    // The demo's simulator runs in this process on loopback: a proxy from the shell must not stand in between.
    outboundProxy: demo ? undefined : readOutboundProxy(env, problems),
    trustedDocuments: {
      mode: trustedMode,
      manifests: readManifests(env, problems),
      // The fast path of registered documents (src/documents/fast-path.ts) costs the other requests one Map
      // lookup: on wherever documents are registered for a reason (log, enforce). 0 is its kill switch.
      compiled: read.bool("TRUSTED_DOCUMENTS_COMPILED", trustedMode !== "off"),
    },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

/**
 * TRUSTED_DOCUMENTS_MANIFESTS' paths, each read and checked now so that start-up lists every problem at once
 * (with TENANTS_FILE's, its tenants' own manifests included); the gateway reads them again for its registry.
 */
function readManifests(env: Env, problems: string[]): string[] {
  const paths = (env.TRUSTED_DOCUMENTS_MANIFESTS ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  for (const path of paths) {
    try {
      readManifest(path);
    } catch (err) {
      if (!(err instanceof ManifestError)) throw err;
      problems.push(err.message);
    }
  }
  return paths;
}

/**
 * TENANTS_FILE read again (SIGHUP): its tenants, or the problems that refuse it, by the rules start-up
 * applies to the file. Nothing else of the configuration is read again: keys naming a tenant the file no
 * longer lists are not a problem here, they see nothing of it (see visibleTenants).
 */
export function reloadTenants(env: Env): { tenants: TenantConfig[]; problems: string[] } {
  const problems: string[] = [];
  const path = env.TENANTS_FILE?.trim() || undefined;
  if (!path) return { tenants: [], problems: ["TENANTS_FILE is not set"] };
  const tenants = readTenantsFile(path, env, sources(), (e, p) => new Reader(e, p), problems);
  return { tenants, problems };
}

/**
 * Every tenant this deployment serves: TENANTS_FILE's, or without it the one tenant `default` whose
 * connections are the single-tenant variables' (or the demo's simulator).
 */
export function configuredTenants(config: Config): readonly TenantConfig[] {
  if (config.tenants) return config.tenants;
  const connections: Record<SourceName, unknown> = {};
  for (const [name, own] of Object.entries(config.sources)) if (own.connection !== undefined) connections[name] = own.connection;
  return [{ id: DEFAULT_TENANT, name: DEFAULT_TENANT, connections }];
}

/**
 * Client authentication. Secure by default: with real vendor credentials configured and no client
 * authentication, start-up refuses unless AUTH_MODE=none says the operator means it.
 */
function readAuth(
  read: Reader,
  env: Env,
  problems: string[],
  noVendorCredentials: boolean,
  tenantIds: readonly string[],
): AuthOptions & { open: boolean } {
  const mode = read.oneOf("AUTH_MODE", ["none", "required"], "required");
  const keysSpec = env.AUTH_API_KEYS?.trim() ?? "";
  const parsedKeys = keysSpec === "" ? [] : parseApiKeys(keysSpec);
  if (typeof parsedKeys === "string") problems.push(`AUTH_API_KEYS: ${parsedKeys}`);
  const apiKeys = typeof parsedKeys === "string" ? [] : parsedKeys;
  for (const key of apiKeys) {
    // A typo in a tenant id would silently narrow a key to nothing: refuse it at start instead.
    const unknown = key.tenants === undefined || key.tenants === "*" ? [] : key.tenants.filter((id) => !tenantIds.includes(id));
    if (unknown.length > 0)
      problems.push(
        `AUTH_API_KEYS: ${key.label} names unknown tenant${unknown.length === 1 ? "" : "s"} ${unknown.join(", ")} (configured: ${tenantIds.join(", ")})`,
      );
  }

  const secret = env.AUTH_JWT_SECRET ?? "";
  const jwksUrl = env.AUTH_JWKS_URL?.trim() ?? "";
  let jwt: AuthOptions["jwt"];
  if (secret !== "" || jwksUrl !== "") {
    if (secret !== "" && jwksUrl !== "") problems.push("set either AUTH_JWT_SECRET or AUTH_JWKS_URL, not both");
    if (secret !== "" && secret.length < 32) problems.push("AUTH_JWT_SECRET must be at least 32 characters (HS256 wants 256 bits)");
    const issuer = env.AUTH_JWT_ISSUER?.trim() ?? "";
    const audience = env.AUTH_JWT_AUDIENCE?.trim() ?? "";
    if (issuer === "") problems.push("AUTH_JWT_ISSUER is missing: JWTs are only accepted from a named issuer");
    if (audience === "") problems.push("AUTH_JWT_AUDIENCE is missing: JWTs are only accepted for a named audience");
    const url = jwksUrl === "" ? undefined : read.url("AUTH_JWKS_URL", jwksUrl);
    jwt = {
      secret: secret === "" ? undefined : new TextEncoder().encode(secret),
      jwksUrl: url,
      issuer,
      audience,
      clockToleranceSec: read.int("AUTH_JWT_CLOCK_SKEW_SECONDS", 60, 0, 3600),
      // Access tokens live an hour or so (Entra: 60-90 min); a day bounds what a stolen or mis-issued token is worth.
      maxAgeSec: read.int("AUTH_JWT_MAX_AGE_SECONDS", 86_400, 60, 30 * 86_400),
    };
  }
  const configured = apiKeys.length > 0 || jwt !== undefined;
  if (mode === "none" && configured) problems.push("AUTH_MODE=none contradicts AUTH_API_KEYS / AUTH_JWT_SECRET / AUTH_JWKS_URL: drop one");
  if (mode !== "none" && !configured && !noVendorCredentials) {
    problems.push(
      "vendor credentials are configured but no client authentication is: set AUTH_API_KEYS, AUTH_JWT_SECRET or AUTH_JWKS_URL (see README, Security), or AUTH_MODE=none to serve without it on purpose",
    );
  }
  return { apiKeys, jwt, open: !configured };
}

function readMetrics(read: Reader, env: Env, problems: string[]): Config["metrics"] {
  const port = env.METRICS_PORT?.trim() ? read.int("METRICS_PORT", 0, 0, 65535) : undefined;
  const host = env.METRICS_HOST?.trim() || "127.0.0.1";
  const token = env.METRICS_TOKEN ?? "";
  if (token !== "" && (token.length < 16 || /\s/.test(token)))
    problems.push("METRICS_TOKEN must be at least 16 characters without spaces; use a long random value");
  const names = (env.METRICS_OPERATION_NAMES ?? "")
    .split(",")
    .map((n) => n.trim())
    .filter((n) => n !== "");
  const badNames = names.filter((n) => !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(n));
  if (badNames.length > 0)
    problems.push(`METRICS_OPERATION_NAMES must list GraphQL operation names of at most 64 characters (${badNames.length} are not)`);
  if (names.length > 1000) problems.push("METRICS_OPERATION_NAMES lists more than 1000 names");
  return { port, host, token: token === "" ? undefined : token, operationNames: names.length > 0 ? names : undefined };
}

/**
 * TRUST_PROXY: unset (no proxy is trusted: the client is the socket's peer), comma-separated proxy
 * addresses / CIDRs (X-Forwarded-For is believed only from them), or a hop count ("1": the load balancer
 * in front). A hop count believes whoever connects, so a client that reaches the port directly names any
 * address and walks around the per-address limits: it is refused unless TRUST_PROXY_PORT_PRIVATE=1 says
 * only the proxies can reach the port. Never "trust everything", for the same reason.
 */
function readTrustProxy(read: Reader, env: Env, problems: string[]): false | number | string[] {
  const text = env.TRUST_PROXY?.trim() ?? "";
  const portPrivate = read.bool("TRUST_PROXY_PORT_PRIVATE", false);
  if (text === "" || text === "0" || text.toLowerCase() === "off") return false;
  if (/^\d+$/.test(text) && Number(text) <= 10) {
    if (portPrivate) return Number(text);
    problems.push(
      `TRUST_PROXY=${text} is a hop count: it believes X-Forwarded-For from whoever connects, so a client that reaches the port directly names any address and escapes AUTH_FAILURE_LIMIT. Name the proxies' addresses / CIDRs instead (TRUST_PROXY=10.0.0.0/8), or set TRUST_PROXY_PORT_PRIVATE=1 if only the proxies can reach the port`,
    );
    return false;
  }
  const entries = text
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "");
  if (entries.length === 0 || !entries.every(isAddressOrCidr)) {
    problems.push(
      'TRUST_PROXY must be comma-separated proxy addresses / CIDRs such as 10.0.0.0/8 (no range wider than /8 for IPv4, /7 for IPv6), or a hop count from 1 to 10 with TRUST_PROXY_PORT_PRIVATE=1 (never "true")',
    );
    return false;
  }
  return entries;
}

/**
 * The widest range TRUST_PROXY may name, per family: that of the largest private block (10.0.0.0/8,
 * fc00::/7). Proxies sit in such blocks or in a provider's published ranges (narrower still); a wider range
 * (0.0.0.0/1, or ::ffff:0:0/96, which is every IPv4 client as the dual-stack socket reports it) trusts the
 * clients themselves, and a /0 made proxy-addr throw at start-up.
 */
const WIDEST_PREFIX = { 4: 8, 6: 7 } as const;
const IPV4_MAPPED = new BlockList();
IPV4_MAPPED.addSubnet("::ffff:0.0.0.0", 96, "ipv6");

/** An IPv4 or IPv6 address, optionally with a prefix length that fits it (what proxy-addr accepts) and no wider than WIDEST_PREFIX. */
function isAddressOrCidr(entry: string): boolean {
  const [address = "", bits, extra] = entry.split("/");
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return false;
  if (bits === undefined) return true;
  const prefix = Number(bits);
  if (!/^\d{1,3}$/.test(bits) || prefix > (version === 4 ? 32 : 128)) return false;
  if (version === 4) return prefix >= WIDEST_PREFIX[4];
  // An IPv6 range holding IPv4-mapped addresses is an IPv4 range (its last 32 bits), or holds all of them.
  if (IPV4_MAPPED.check(address, "ipv6")) return prefix - 96 >= WIDEST_PREFIX[4];
  const range = new BlockList();
  range.addSubnet(address, prefix, "ipv6");
  return prefix >= WIDEST_PREFIX[6] && !range.check("::ffff:0.0.0.0", "ipv6");
}

function readRedis(read: Reader, env: Env, problems: string[]): RedisConfig | undefined {
  const text = env.REDIS_URL?.trim() ?? "";
  const keyPrefix = env.REDIS_KEY_PREFIX ?? "usergraph:";
  const commandTimeoutMs = read.int("REDIS_COMMAND_TIMEOUT_MS", 500, 1, 60_000);
  if (!/^[\x21-\x7e]{1,100}$/.test(keyPrefix)) problems.push("REDIS_KEY_PREFIX must be 1 to 100 printable characters without spaces");
  if (text === "") return undefined;
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  // Never echo the value: a Redis URL may carry its password.
  if (url === undefined || (url.protocol !== "redis:" && url.protocol !== "rediss:") || url.hostname === "") {
    problems.push("REDIS_URL must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379/0");
    return undefined;
  }
  return { url: text, keyPrefix, commandTimeoutMs };
}

/**
 * HTTP_PROXY / HTTPS_PROXY / NO_PROXY with undici's EnvHttpProxyAgent's precedence: the lower-case
 * variable when it is set, even empty, else the upper-case one; HTTPS_PROXY falls back to HTTP_PROXY.
 * A value is never echoed: a proxy URL may carry a password.
 */
function readOutboundProxy(env: Env, problems: string[]): OutboundProxyConfig | undefined {
  const pick = (name: string): [string, string] => {
    const lower = name.toLowerCase();
    return env[lower] !== undefined ? [lower, env[lower]!.trim()] : [name, (env[name] ?? "").trim()];
  };
  const proxyUrl = ([name, text]: [string, string]): ProxyUrl | undefined => {
    if (text === "") return undefined;
    let url: URL | undefined;
    try {
      url = new URL(text);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") {
      problems.push(
        `${name} must be an http:// or https:// proxy URL such as http://proxy.example.com:3128 (the value is not shown: it may hold a password)`,
      );
      return undefined;
    }
    return new ProxyUrl(url);
  };
  const http = proxyUrl(pick("HTTP_PROXY"));
  const https = proxyUrl(pick("HTTPS_PROXY")) ?? http;
  if (http === undefined && https === undefined) return undefined;
  return { http, https, noProxy: pick("NO_PROXY")[1] };
}

/** Reads one variable at a time, collecting problems instead of throwing at the first. */
export class Reader {
  constructor(
    private readonly env: Env,
    private readonly problems: string[],
  ) {}

  private raw(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) {
      this.problems.push(`${name} must be a whole number from ${min} to ${max} (got "${truncate(v)}")`);
      return fallback;
    }
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.raw(name)?.toLowerCase();
    if (v === undefined) return fallback;
    if (["1", "true", "yes", "on"].includes(v)) return true;
    if (["0", "false", "no", "off"].includes(v)) return false;
    this.problems.push(`${name} must be 1 or 0 (got "${truncate(v)}")`);
    return fallback;
  }

  oneOf(name: string, allowed: readonly string[], fallback: string, hint = ""): string {
    const v = this.raw(name)?.toLowerCase();
    if (v === undefined) return fallback;
    if (!allowed.includes(v)) {
      this.problems.push(`${name} must be one of ${allowed.join(", ")} (got "${truncate(v)}")${hint}`);
      return fallback;
    }
    return v;
  }

  rate(name: string, fallback: string): RateWindow[] {
    const parsed = parseRateWindows(this.raw(name) ?? fallback);
    if (typeof parsed === "string") {
      this.problems.push(`${name}: ${parsed}, comma-separated, or "off"`);
      return parseRateWindows(fallback) as RateWindow[];
    }
    return parsed;
  }

  /** One CALLS/DURATION window, or "off" (undefined). */
  window(name: string, fallback: string): RateWindow | undefined {
    const windows = this.rate(name, fallback);
    if (windows.length > 1) {
      this.problems.push(`${name} takes one window such as 50/1s, or "off"`);
      return undefined;
    }
    return windows[0];
  }

  url(name: string, fallback: string, expand: (s: string) => string = (s) => s): URL | undefined {
    const text = expand(this.raw(name) ?? fallback);
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      this.problems.push(`${name} must be an absolute http(s) URL (got "${truncate(text)}")`);
      return undefined;
    }
    if (url.username !== "" || url.password !== "") {
      this.problems.push(`${name} must not carry credentials in the URL; use the credential variables`);
      return undefined;
    }
    const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
    if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
      this.problems.push(`${name} must use https (plain http is accepted only for loopback test servers; got "${truncate(text)}")`);
      return undefined;
    }
    return url;
  }
}

function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
