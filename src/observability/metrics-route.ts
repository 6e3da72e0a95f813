import { createHash, timingSafeEqual } from "node:crypto";
import type { AddressInfo } from "node:net";
import Fastify, { type FastifyInstance } from "fastify";
import type { Metrics } from "./metrics";

/**
 * Who may read GET /metrics. Metrics name operations, callers' traffic and vendor health: not for the
 * public. Options (README "Security"):
 * - METRICS_PORT: a separate listener (METRICS_HOST, loopback by default) and no /metrics on the GraphQL port;
 * - METRICS_TOKEN: `Authorization: Bearer <token>` required, compared in constant time;
 * - in production with neither, /metrics answers 404 (fail closed); outside production it stays open.
 */
export interface MetricsExposure {
  port?: number;
  host: string;
  token?: string;
  production: boolean;
}

export type MetricsPlacement = "graphql-port" | "own-port" | "off";

/** Where /metrics is served under these settings. */
export function metricsPlacement(exposure: MetricsExposure): MetricsPlacement {
  if (exposure.port !== undefined) return "own-port";
  if (exposure.token !== undefined || !exposure.production) return "graphql-port";
  return "off";
}

/** Adds GET /metrics to a fastify app, behind the bearer token when one is configured. */
export function registerMetricsRoute(app: FastifyInstance, metrics: Metrics, token: string | undefined): void {
  const expected = token === undefined ? undefined : digest(token);
  app.get("/metrics", async (request, reply) => {
    if (expected !== undefined) {
      const m = /^Bearer[ ]+(\S+)\s*$/i.exec(String(request.headers.authorization ?? ""));
      // Digests of equal length, compared in constant time: the time taken says nothing about the token.
      if (!m || !timingSafeEqual(digest(m[1]!), expected)) {
        return reply
          .code(401)
          .header("www-authenticate", 'Bearer realm="usergraph-metrics"')
          .send({ error: "unauthorized", message: "GET /metrics needs 'Authorization: Bearer <METRICS_TOKEN>'." });
      }
    }
    const body = await metrics.registry.metrics();
    return reply.header("content-type", metrics.registry.contentType).header("cache-control", "no-store").send(body);
  });
}

export interface MetricsListener {
  url: string;
  close(): Promise<void>;
}

/** The separate metrics listener (METRICS_PORT): only /metrics, nothing else. */
export async function startMetricsListener(metrics: Metrics, exposure: MetricsExposure & { port: number }): Promise<MetricsListener> {
  const app = Fastify({ logger: false });
  // Only GET /metrics lives here. Anything else is answered from its headers: fastify's not-found route
  // reads and JSON-parses the body first (up to 1 MiB, no depth bound: 120-260 ms of CPU for a 1 MB
  // `[[[…]]]`, from anyone who reaches the port). A body sent along is never read: the connection closes.
  app.addHook("onRequest", (request, reply, done) => {
    if (request.headers["transfer-encoding"] !== undefined || (request.headers["content-length"] ?? "0") !== "0")
      void reply.header("connection", "close");
    if (!request.is404) return done();
    void reply.code(404).send({ message: `Route ${request.method}:${request.url} not found`, error: "Not Found", statusCode: 404 });
  });
  registerMetricsRoute(app, metrics, exposure.token);
  await app.listen({ port: exposure.port, host: exposure.host });
  const { port } = app.server.address() as AddressInfo;
  const host = exposure.host.includes(":") ? `[${exposure.host}]` : exposure.host;
  return { url: `http://${host}:${port}/metrics`, close: () => app.close() };
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}
