import { randomUUID } from "node:crypto";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginLandingPageLocalDefault } from "@apollo/server/plugin/landingPage/default";
import { fastifyApolloDrainPlugin, fastifyApolloHandler } from "@as-integrations/fastify";
import fastifyCors from "@fastify/cors";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { GraphQLError, type GraphQLSchema } from "graphql";
import type { Logger } from "pino";
import type { Authenticator } from "./auth/authenticator";
import { closeIfBodyUnbounded, RequestGate, type GateOptions } from "./auth/request-gate";
import { contextFactory, tenantsVisibleTo, type Context, type ContextDeps } from "./context";
import { ErrorCode } from "./errors/error-code";
import type { Metrics } from "./observability/metrics";
import { priceBookOf } from "./graph-parts";
import { OperationPricer, operationCostPlugin, operationValidationRules, type OperationLimits } from "./limits/operation-limits";
import { errorFormatter } from "./errors/format-error";
import { checkReadiness, type SourceProbe, type TenantProbe } from "./health";
import type { KeyValueCache } from "@apollo/utils.keyvaluecache";
import type { RedisHealth } from "./store/redis-link";
import { requestLogPlugin } from "./observability/request-log.plugin";
import { endWithConnection, requestLifetimePlugin } from "./request-lifetime.plugin";
import { PerPrincipalApq } from "./apq/per-principal-apq";
import { registerMetricsRoute } from "./observability/metrics-route";
import { registerExplorer, type ExplorerOptions } from "./explorer/explorer.route";
import { exceedsJsonDepth, MAX_JSON_DEPTH } from "./json-depth";
import { FastPath } from "./documents/fast-path";
import type { TrustedDocuments } from "./documents/trusted-documents";

export interface ServerOptions {
  schema: GraphQLSchema;
  contextDeps: ContextDeps;
  log: Logger;
  /** Apollo Sandbox at GET /graphql in a browser. */
  landingPage: boolean;
  introspection: boolean;
  trustProxy: false | number | string[];
  /** Production: no "Did you mean …" suggestions in errors (they spell out the schema to whoever probes it). */
  hideSchemaHints: boolean;
  probes: SourceProbe[];
  /** With TENANTS_FILE: the sources of the tenants started so far (src/health.ts TenantProbe). */
  tenantProbes?: () => readonly TenantProbe[];
  /** How long in-flight requests get to finish on shutdown before connections are cut. */
  shutdownGraceMs: number;
  /** Undefined: the endpoint is open (demo mode, or AUTH_MODE=none). */
  authenticator?: Authenticator;
  limits: OperationLimits;
  maxBodyBytes: number;
  /** Whole-request timeout at the HTTP layer (slow clients included). */
  requestTimeoutMs: number;
  corsOrigins: string[];
  metrics: Metrics;
  /** Serve GET /metrics on the GraphQL port (see metrics-route.ts for when), behind this bearer token if set. */
  metricsOnThisPort: boolean;
  metricsToken?: string;
  /** With REDIS_URL: the shared tier's state, reported by /health/ready. */
  redisHealth?: () => RedisHealth;
  /** With REDIS_URL: persisted-query hashes shared by every replica. */
  apqCache?: KeyValueCache<string>;
  /** The offline GraphiQL page at /explorer; absent = not served. */
  explorer?: ExplorerOptions;
  /** Per-caller request rate and failed-authentication throttle (and their Redis, with REDIS_URL). */
  gate: Omit<GateOptions, "authenticator">;
  /** The registered documents and what to do with others (TRUSTED_DOCUMENTS); absent: none registered. */
  trustedDocuments?: TrustedDocuments;
  /**
   * Registered documents are answered by the fast path (src/documents/fast-path.ts: compiled plans, outside
   * Apollo's pipeline) rather than by Apollo (TRUSTED_DOCUMENTS_COMPILED).
   */
  compileDocuments?: boolean;
}

export interface AppServer {
  app: FastifyInstance;
  apollo: ApolloServer<Context>;
  /**
   * Stops accepting, lets in-flight requests finish (up to the grace period), answers whatever is still
   * running then with a retryable 503, and closes the HTTP server. `onGraceEnding` runs a second before
   * the grace period ends (the gateway answers callers queued for a vendor slot there).
   */
  stop(onGraceEnding?: () => void): Promise<ShutdownSummary>;
}

/** How shutdown went: requests answered with 503 at the end of the grace period, and connections cut with no answer. */
export interface ShutdownSummary {
  answeredAtGrace: number;
  cut: number;
}

const METHOD_NOT_ALLOWED_BODY = JSON.stringify({
  errors: [
    {
      message: "/graphql takes GET, POST and OPTIONS only: send the operation as a POST with content-type application/json.",
      extensions: { code: ErrorCode.BAD_REQUEST },
    },
  ],
});

const SHUTTING_DOWN_BODY = JSON.stringify({
  errors: [
    {
      message: "usergraph is shutting down and could not finish this request in time; send it again (another replica will answer).",
      extensions: { code: ErrorCode.SHUTTING_DOWN, retryAfter: 1 },
    },
  ],
});

/** The error code of a body refused by MAX_JSON_DEPTH, for the error handler. */
const JSON_TOO_DEEP = "USERGRAPH_JSON_TOO_DEEP";

/** A caller-supplied request id is echoed back only when it looks like one; otherwise we make our own. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function createServer(options: ServerOptions): Promise<AppServer> {
  const app: FastifyInstance = Fastify({
    loggerInstance: options.log as FastifyBaseLogger,
    bodyLimit: options.maxBodyBytes,
    // Who the client is, for the per-address limits: only proxies named by TRUST_PROXY may say.
    ...trustProxyOption(options.trustProxy),
    requestTimeout: options.requestTimeoutMs,
    // One line per GraphQL request comes from the request-log plugin instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  // fastify's own JSON parser (secure-json-parse, refusing __proto__ and constructor keys), after a bound
  // on nesting checked first: JSON.parse has none, and a body 480,000 levels deep cost a second of CPU.
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    if (exceedsJsonDepth(body as string, MAX_JSON_DEPTH)) {
      done(Object.assign(new Error("JSON nested too deep"), { statusCode: 400, code: JSON_TOO_DEEP }), undefined);
      return;
    }
    parseJson(request, body as string, done);
  });
  // Every GraphQL request not yet answered, so shutdown can answer each one itself rather than cut its
  // connection (a Map by request: an aborted one is dropped in O(1)).
  const unanswered = new Map<FastifyRequest, FastifyReply>();
  // Callback-style hooks: an async hook costs a promise per request on the hot path.
  app.addHook("onRequest", (request, reply, done) => {
    void reply.header("x-request-id", request.id);
    void reply.header("x-content-type-options", "nosniff");
    // By the matched route, not the raw URL: the router also sends other spellings of the path to /graphql.
    if (request.routeOptions.url === "/graphql") {
      unanswered.set(request, reply);
    } else {
      // Health and other plain routes: nothing here is meant to be framed, cached or sniffed.
      void reply.header("x-frame-options", "DENY");
      void reply.header("content-security-policy", "default-src 'none'; frame-ancestors 'none'");
      void reply.header("referrer-policy", "no-referrer");
      void reply.header("cache-control", "no-store");
    }
    // A body no route reads (a GET's or HEAD's, a CORS preflight's answered by @fastify/cors) is drained by
    // Node after the answer, without bound on a keep-alive connection (a chunked preflight: 100 MB in 2 s):
    // close instead when it is unbounded. POST bodies are read by fastify, within MAX_BODY_BYTES.
    if (request.method !== "POST") closeIfBodyUnbounded(request, reply);
    if (request.is404) {
      // An unknown path is answered from the headers alone: fastify's not-found route would read and
      // parse its body first.
      closeIfBodyUnbounded(request, reply);
      void reply.code(404).send({ message: `Route ${request.method}:${request.url} not found`, error: "Not Found", statusCode: 404 });
      return;
    }
    done();
  });
  app.addHook("onResponse", (request, _reply, done) => {
    unanswered.delete(request);
    done();
  });
  app.addHook("onRequestAbort", (request, done) => {
    unanswered.delete(request);
    done();
  });
  if (options.corsOrigins.length > 0) {
    await app.register(fastifyCors, {
      origin: options.corsOrigins,
      methods: ["GET", "POST", "OPTIONS"],
      allowedHeaders: ["content-type", "authorization", "x-api-key", "x-request-id", "apollo-require-preflight"],
      exposedHeaders: ["x-request-id"],
      maxAge: 600,
    });
  }
  // Requests fastify refuses before Apollo sees them still get a GraphQL-shaped error that names the problem.
  app.setErrorHandler(async (error: { statusCode?: number; code?: string; message: string }, request, reply) => {
    const status = error.statusCode ?? 500;
    const known: Record<number, [string, string]> = {
      413: [ErrorCode.PAYLOAD_TOO_LARGE, `The request body is larger than ${options.maxBodyBytes} bytes (MAX_BODY_BYTES).`],
      415: [ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Send GraphQL requests as application/json."],
      400: [
        ErrorCode.BAD_REQUEST,
        error.code === JSON_TOO_DEEP
          ? `The request body nests JSON deeper than ${MAX_JSON_DEPTH} levels.`
          : error.code === "FST_ERR_CTP_INVALID_JSON_BODY" || error instanceof SyntaxError
            ? "The request body is not valid JSON."
            : "The request is malformed.",
      ],
    };
    const [code, message] = known[status] ?? [ErrorCode.INTERNAL_SERVER_ERROR, "Internal server error"];
    if (status >= 500) request.log.error({ err: error }, "request failed");
    return reply.code(status).send({ errors: [{ message, extensions: { code } }] });
  });

  const apq = new PerPrincipalApq(options.apqCache);
  const trusted = options.trustedDocuments;
  const formatError = errorFormatter({ hideSchemaHints: options.hideSchemaHints });
  const validationRules = operationValidationRules(options.limits);
  // One pricer (and its cache of prices) for the cost plugin and the fast path.
  const pricer = new OperationPricer(options.limits, options.schema, priceBookOf());
  const apollo = new ApolloServer<Context>({
    schema: options.schema,
    formatError,
    introspection: options.introspection,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    // APQ, one namespace per caller: through Redis when there is one (an hour per hash), else in process.
    persistedQueries: { cache: apq.apolloCache, ttl: 3600 },
    validationRules,
    // graphql-js stops parsing past this many tokens: a 1 MB document costs what 5,000 tokens cost.
    parseOptions: { maxTokens: options.limits.maxTokens },
    // main.ts owns SIGTERM/SIGINT. Apollo's own handlers would stop the server behind our back and then
    // re-raise the signal, racing our graceful shutdown (seen: the process never exited).
    stopOnTerminationSignals: false,
    logger: options.log.child({ component: "apollo" }),
    plugins: [
      fastifyApolloDrainPlugin(app),
      // Per-field cache-control bookkeeping costs time on every field; usergraph sets no cache hints.
      ApolloServerPluginCacheControlDisabled(),
      options.landingPage
        ? ApolloServerPluginLandingPageLocalDefault({ embed: { runTelemetry: false } })
        : ApolloServerPluginLandingPageDisabled(),
      operationCostPlugin(pricer),
      requestLifetimePlugin,
      requestLogPlugin(options.metrics),
      // Before the APQ plugin: it decides before a hash is looked up in the APQ store (trusted-documents.ts).
      ...(trusted ? [trusted.plugin()] : []),
      apq.plugin<Context>(),
    ],
  });
  await apollo.start();

  let draining = false;
  // While draining, answers close their connection, so keep-alive clients do not hold shutdown open.
  // Callback-style, like the hooks above: an async hook costs a promise per response.
  app.addHook("onSend", (_request, reply, payload, done) => {
    if (draining) void reply.header("connection", "close");
    done(null, payload);
  });
  app.get("/health/live", async () => ({ status: "ok" }));
  // /metrics on this port only when allowed here (metrics-route.ts); else it is a 404 like any unknown path.
  if (options.metricsOnThisPort) registerMetricsRoute(app, options.metrics, options.metricsToken);
  app.get("/health/ready", async (_request, reply) => {
    const readiness = await checkReadiness(options.probes, draining, options.redisHealth, undefined, options.tenantProbes);
    return reply.code(readiness.status === "ready" ? 200 : 503).send(readiness);
  });

  const makeContext = contextFactory(options.contextDeps);
  if (options.explorer) registerExplorer(app, options.explorer);
  const gate = await RequestGate.create(app, { ...options.gate, authenticator: options.authenticator });
  const apolloHandler = fastifyApolloHandler(apollo, {
    context: async (request, reply) => {
      const principal = gate.principalOf(request);
      // Fail closed: with client auth configured, nothing executes without an authenticated principal.
      if (principal === undefined) {
        throw new GraphQLError("Unauthenticated: credentials required.", {
          extensions: {
            code: ErrorCode.UNAUTHENTICATED,
            http: { status: 401, headers: new Map([["www-authenticate", 'Bearer realm="usergraph", error="invalid_request"']]) },
          },
        });
      }
      // The deadline counts from the request's arrival: body parsing and the gate's waits spent some of it.
      const context = makeContext(request.id, principal, Date.now() - reply.elapsedTime);
      endWithConnection(reply, context);
      return context;
    },
  }) as (request: FastifyRequest, reply: FastifyReply) => Promise<string>;
  // Registered documents are answered outside Apollo's pipeline, with the same answers (fast-path.ts).
  let fastPath: FastPath | undefined;
  if (trusted && options.compileDocuments) {
    fastPath = new FastPath({
      schema: options.schema,
      registry: () => trusted.registry,
      validationRules,
      introspection: options.introspection,
      maxTokens: options.limits.maxTokens,
      pricer,
      formatError,
      metrics: options.metrics,
      principalOf: (request) => gate.principalOf(request),
      makeContext,
      tenantsVisible: tenantsVisibleTo(options.contextDeps),
      fallback: apolloHandler,
    });
    const prepare = fastPath;
    trusted.onLoad((registry) => prepare.prepare(registry));
  }
  // Our own route instead of the integration's plugin, so the gate is a hook of the route itself and runs
  // for every request the router matches to it, however its target is spelled; as its onRequest hook, it
  // answers a refused request before any of the body is read.
  app.route({
    method: ["GET", "POST", "OPTIONS"],
    url: "/graphql",
    onRequest: gate.onRequest,
    handler: fastPath ? (request, reply) => fastPath.answer(request, reply) ?? apolloHandler(request, reply) : apolloHandler,
  });

  // GraphQL over HTTP: a method /graphql does not take (PUT, DELETE, PATCH, …) is 405 with the methods it
  // does, not the 404 of a path usergraph does not serve. Answered from the headers in onRequest, so no
  // body is read, nothing is authenticated and Apollo never sees it.
  const graphqlMethods = new Set(["GET", "HEAD", "POST", "OPTIONS"]);
  const refuseMethod = (request: FastifyRequest, reply: FastifyReply): void => {
    closeIfBodyUnbounded(request, reply);
    void reply.code(405).header("allow", "GET, POST, OPTIONS").type("application/json").send(METHOD_NOT_ALLOWED_BODY);
  };
  app.route({
    method: app.supportedMethods.filter((m) => !graphqlMethods.has(m)),
    url: "/graphql",
    onRequest: (request, reply) => refuseMethod(request, reply),
    handler: (request, reply) => refuseMethod(request, reply),
  });

  return {
    app,
    apollo,
    stop: async (onGraceEnding) => {
      draining = true;
      const summary: ShutdownSummary = { answeredAtGrace: 0, cut: 0 };
      const soon = setTimeout(() => onGraceEnding?.(), Math.max(0, options.shutdownGraceMs - 1_000));
      // Apollo's drain closes fastify, which stops accepting and waits for in-flight requests. At the end of
      // the grace period, whatever is still running is answered here with a retryable 503 (its handler's
      // later answer is dropped), and only then are the connections closed.
      const force = setTimeout(() => {
        for (const reply of unanswered.values()) {
          if (reply.sent || reply.raw.headersSent) continue;
          summary.answeredAtGrace++;
          void reply.code(503).header("retry-after", "1").header("connection", "close").type("application/json").send(SHUTTING_DOWN_BODY);
        }
        setTimeout(() => {
          summary.cut = [...unanswered.values()].filter((r) => !r.raw.writableEnded).length;
          app.server.closeAllConnections();
        }, 200).unref();
      }, options.shutdownGraceMs);
      try {
        await apollo.stop();
      } finally {
        clearTimeout(soon);
        clearTimeout(force);
      }
      return summary;
    },
  };
}

/** fastify's `trustProxy` in the form its overloads take (an address list is one comma-separated string). */
function trustProxyOption(trust: false | number | string[]): { trustProxy?: string | ((address: string, hop: number) => boolean) } {
  if (trust === false) return {};
  // A hop count (config.ts allows it only with TRUST_PROXY_PORT_PRIVATE=1) as proxy-addr's function
  // form: trust the nearest `trust` hops.
  return { trustProxy: typeof trust === "number" ? (_address: string, hop: number) => hop < trust : trust.join(",") };
}
