import fastifyRateLimit, { normalizeIP } from "@fastify/rate-limit";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type Redis from "ioredis";
import { ErrorCode } from "../errors/error-code";
import type { RateWindow } from "../upstream/rate-limiter";
import type { Authenticator } from "./authenticator";
import type { Principal } from "./principal";
import { allScopes } from "./scopes";

export interface GateOptions {
  /** Undefined: the endpoint is open on purpose (demo, AUTH_MODE=none). */
  authenticator?: Authenticator;
  /** Requests per caller (principal; the client address when the endpoint is open). Undefined = off. */
  callerLimit?: RateWindow;
  /** Failed authentications per client address before further attempts get 429. Undefined = off. */
  authFailureLimit?: RateWindow;
  /** With REDIS_URL: counters shared by every replica (in-process counters when Redis fails a command). */
  redis?: { client: Redis; prefix: string };
}

type Check = (
  request: FastifyRequest,
  options?: { increment?: boolean },
) => Promise<{ isAllowed: boolean; isExceeded?: boolean; max?: number; remaining?: number; ttlInSeconds?: number }>;

const PRINCIPAL = Symbol("usergraph.principal");
type WithPrincipal = FastifyRequest & { [PRINCIPAL]?: Principal };

/**
 * Who may reach GraphQL execution, and how often. It runs as the /graphql route's own onRequest hook, so
 * it sees every request the router sends to that route whatever the spelling of the target
 * (percent-encoded letters, absolute-form `POST http://host/graphql`, HEAD): a URL-prefix check in a
 * global hook did not. And it runs before any byte of the body is read: a caller without credentials,
 * or over a limit, costs headers only (as a preHandler it ran after fastify had read and parsed up to
 * MAX_BODY_BYTES of JSON). The counting is @fastify/rate-limit's (its Redis store with REDIS_URL); what is
 * usergraph's own is only the choice of keys: the authenticated principal for the request rate, the
 * client address for failed authentications, counted only when authentication fails.
 */
export class RequestGate {
  private callerCheck?: Check;
  private failureCheck?: Check;
  private callerFallback?: Check;
  private failureFallback?: Check;
  /** Without client auth, every caller holds every registered source's scope (the sources are registered before a gate is made). */
  private readonly openPrincipal: Principal = Object.freeze({ kind: "open", subject: "anonymous", scopes: new Set(allScopes()) });

  private constructor(private readonly options: GateOptions) {}

  static async create(app: FastifyInstance, options: GateOptions): Promise<RequestGate> {
    const gate = new RequestGate(options);
    const limiters = async (redis?: GateOptions["redis"]): Promise<{ caller?: Check; failure?: Check }> => {
      let found: { caller?: Check; failure?: Check } = {};
      // An encapsulated child so each store gets its own `createRateLimit` decorator and no global hook.
      await app.register(async (child) => {
        await child.register(fastifyRateLimit, {
          global: false,
          ...(redis ? { redis: redis.client, nameSpace: `${redis.prefix}rl:` } : {}),
          skipOnError: false,
        });
        const make = (limit: RateWindow | undefined, keyOf: (r: FastifyRequest) => string) =>
          limit && (child.createRateLimit({ max: limit.limit, timeWindow: limit.windowMs, keyGenerator: keyOf }) as unknown as Check);
        found = {
          caller: make(options.callerLimit, (r) => `caller:${callerKey(r)}`),
          failure: make(options.authFailureLimit, (r) => `authfail:${clientAddress(r)}`),
        };
      });
      return found;
    };
    const local = await limiters();
    gate.callerFallback = local.caller;
    gate.failureFallback = local.failure;
    if (options.redis) {
      const shared = await limiters(options.redis);
      gate.callerCheck = shared.caller;
      gate.failureCheck = shared.failure;
    } else {
      gate.callerCheck = local.caller;
      gate.failureCheck = local.failure;
    }
    return gate;
  }

  /**
   * The route's onRequest hook: authenticate (throttling failures per address), then count the caller's
   * request; all from the headers, before the body is read.
   */
  readonly onRequest = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    // CORS preflights carry no credentials and execute nothing (Apollo answers OPTIONS without running an
    // operation). Nor do they carry a body: fastify would parse one, so an OPTIONS with a body is gated.
    if (request.method === "OPTIONS" && !announcesBody(request)) return undefined;
    const authenticator = this.options.authenticator;
    if (authenticator) {
      // The Sandbox page itself (a browser GET asking for HTML, no parameters) is public; what it sends is not.
      // A request let through here carries no principal, so the context refuses it if it tries to execute.
      if (isLandingPageRequest(request)) return undefined;
      if (this.failureCheck) {
        const seen = await this.run(this.failureCheck, this.failureFallback!, request, false);
        // A peek: the limit is reached once `max` failures are counted (isExceeded would allow one more try).
        if (seen.isExceeded || seen.remaining === 0)
          return tooMany(request, reply, seen, "too many failed authentication attempts from this address", "AUTH_FAILURE_LIMIT");
      }
      const result = await authenticator.authenticate(request.headers);
      if ("error" in result) {
        if (this.failureCheck) await this.run(this.failureCheck, this.failureFallback!, request, true);
        closeIfBodyUnbounded(request, reply);
        return reply
          .code(401)
          .header("www-authenticate", `Bearer realm="usergraph", error="${result.error}", error_description="${result.description}"`)
          .send({ errors: [{ message: `Unauthenticated: ${result.description}.`, extensions: { code: ErrorCode.UNAUTHENTICATED } }] });
      }
      (request as WithPrincipal)[PRINCIPAL] = result;
    } else {
      (request as WithPrincipal)[PRINCIPAL] = this.openPrincipal;
    }
    if (this.callerCheck) {
      const counted = await this.run(this.callerCheck, this.callerFallback!, request, true);
      if (counted.isExceeded) return tooMany(request, reply, counted, "this caller sent too many requests", "CALLER_RATE_LIMIT");
      setRateHeaders(reply, counted);
    }
    return undefined;
  };

  /**
   * The principal the onRequest hook recorded. Fails closed: with client auth configured, a request that
   * reaches here without one is refused, never given a default principal.
   */
  principalOf(request: FastifyRequest): Principal | undefined {
    const principal = (request as WithPrincipal)[PRINCIPAL];
    if (principal) return principal;
    return this.options.authenticator ? undefined : this.openPrincipal;
  }

  /** Redis first when configured; a failed Redis command falls back to this replica's own counters (never to no limit). */
  private async run(check: Check, fallback: Check, request: FastifyRequest, increment: boolean) {
    try {
      return await check(request, { increment });
    } catch {
      return fallback(request, { increment });
    }
  }
}

function callerKey(request: FastifyRequest): string {
  const principal = (request as WithPrincipal)[PRINCIPAL];
  // An open endpoint has one principal for everybody: count per client address instead.
  if (principal === undefined || principal.kind === "open") return `ip:${clientAddress(request)}`;
  return `${principal.kind}:${principal.subject}`;
}

/**
 * The client's address as fastify derives it (the socket's peer, or the client named by X-Forwarded-For
 * when TRUST_PROXY names the proxies in front), IPv6 counted per /64 as one client usually holds one.
 */
function clientAddress(request: FastifyRequest): string {
  const ip = request.ip;
  // Without a colon it is no IPv6 address, and normalizeIP would only lower-case it: skip its IPv6 test
  // (a long regular expression, 0.7 % of a request's CPU on an IPv4 address).
  return ip.includes(":") ? normalizeIP(ip, 64) : ip.toLowerCase();
}

function isLandingPageRequest(request: FastifyRequest): boolean {
  if (request.method !== "GET" && request.method !== "HEAD") return false;
  const query = request.query as Record<string, unknown> | undefined;
  if (query && Object.keys(query).length > 0) return false;
  return String(request.headers.accept ?? "").includes("text/html");
}

function setRateHeaders(reply: FastifyReply, state: { max?: number; remaining?: number; ttlInSeconds?: number }): void {
  if (state.max === undefined) return;
  // draft-ietf-httpapi-ratelimit-headers, as @fastify/rate-limit's enableDraftSpec names them.
  void reply.header("ratelimit-limit", state.max);
  void reply.header("ratelimit-remaining", state.remaining ?? 0);
  void reply.header("ratelimit-reset", state.ttlInSeconds ?? 0);
}

/** Whether the request announces a body (fastify reads and parses one for any method but GET, HEAD and TRACE). */
function announcesBody(request: FastifyRequest): boolean {
  const length = request.headers["content-length"];
  return request.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

/**
 * After a refusal answered from the headers, the body is never parsed. One within the body limit is
 * still drained off the wire by Node (no parsing, no copy kept), so the connection can be reused and the
 * client reads its answer: closing with the body unread resets the connection, and a client still
 * sending its body may lose the answer with it. A larger or chunked (unbounded) body is not read at all:
 * the connection closes after the answer.
 */
export function closeIfBodyUnbounded(request: FastifyRequest, reply: FastifyReply): void {
  if (request.headers["transfer-encoding"] !== undefined || Number(request.headers["content-length"] ?? 0) > request.routeOptions.bodyLimit)
    void reply.header("connection", "close");
}

function tooMany(
  request: FastifyRequest,
  reply: FastifyReply,
  state: { max?: number; remaining?: number; ttlInSeconds?: number },
  why: string,
  setting: string,
) {
  const retryAfter = Math.max(1, state.ttlInSeconds ?? 1);
  setRateHeaders(reply, state);
  closeIfBodyUnbounded(request, reply);
  return reply
    .code(429)
    .header("retry-after", retryAfter)
    .send({
      errors: [
        {
          message: `Rate limited: ${why} (${setting}); retry after ${retryAfter} s.`,
          extensions: { code: ErrorCode.RATE_LIMITED, limit: setting, retryAfter },
        },
      ],
    });
}
