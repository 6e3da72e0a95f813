import { randomUUID } from "node:crypto";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginLandingPageLocalDefault } from "@apollo/server/plugin/landingPage/default";
import fastifyApollo, { fastifyApolloDrainPlugin } from "@as-integrations/fastify";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { GraphQLSchema } from "graphql";
import type { Logger } from "pino";
import { contextFactory, type Context, type ContextDeps } from "./context";
import { formatError } from "./errors/format-error";
import { checkReadiness, type SourceProbe } from "./health";
import { requestLogPlugin } from "./plugins/request-log.plugin";

export interface ServerOptions {
  schema: GraphQLSchema;
  contextDeps: ContextDeps;
  log: Logger;
  /** Apollo Sandbox at GET /graphql in a browser. */
  landingPage: boolean;
  introspection: boolean;
  probes: SourceProbe[];
  /** How long in-flight requests get to finish on shutdown before connections are cut. */
  shutdownGraceMs: number;
}

export interface AppServer {
  app: FastifyInstance;
  apollo: ApolloServer<Context>;
  /** Stops accepting, lets in-flight requests finish (up to the grace period), then closes the HTTP server. */
  stop(): Promise<void>;
}

/** A caller-supplied request id is echoed back only when it looks like one; otherwise we make our own. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function createServer(options: ServerOptions): Promise<AppServer> {
  const app: FastifyInstance = Fastify({
    loggerInstance: options.log as FastifyBaseLogger,
    // One line per GraphQL request comes from the request-log plugin instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  app.addHook("onRequest", async (request, reply) => {
    void reply.header("x-request-id", request.id);
  });

  const apollo = new ApolloServer<Context>({
    schema: options.schema,
    formatError,
    introspection: options.introspection,
    includeStacktraceInErrorResponses: false,
    // main.ts owns SIGTERM/SIGINT. Apollo's own handlers would stop the server behind our back and then
    // re-raise the signal, racing our graceful shutdown (seen: the process never exited).
    stopOnTerminationSignals: false,
    logger: options.log.child({ component: "apollo" }),
    plugins: [
      fastifyApolloDrainPlugin(app),
      // Per-field cache-control bookkeeping costs time on every field; usergraph sets no cache hints.
      ApolloServerPluginCacheControlDisabled(),
      options.landingPage ? ApolloServerPluginLandingPageLocalDefault({ embed: true }) : ApolloServerPluginLandingPageDisabled(),
      requestLogPlugin(),
    ],
  });
  await apollo.start();

  let draining = false;
  // While draining, answers close their connection, so keep-alive clients do not hold shutdown open.
  app.addHook("onSend", async (_request, reply) => {
    if (draining) void reply.header("connection", "close");
  });
  app.get("/health/live", async () => ({ status: "ok" }));
  app.get("/health/ready", async (_request, reply) => {
    const readiness = await checkReadiness(options.probes, draining);
    return reply.code(readiness.status === "ready" ? 200 : 503).send(readiness);
  });

  const makeContext = contextFactory(options.contextDeps);
  await app.register(fastifyApollo(apollo), {
    path: "/graphql",
    context: async (request) => makeContext(request.id),
  });

  return {
    app,
    apollo,
    stop: async () => {
      draining = true;
      // Apollo's drain closes fastify, which stops accepting and waits for in-flight requests; past the
      // grace period the remaining connections are cut.
      const force = setTimeout(() => app.server.closeAllConnections(), options.shutdownGraceMs);
      try {
        await apollo.stop();
      } finally {
        clearTimeout(force);
      }
    },
  };
}
