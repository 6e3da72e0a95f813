import type { RedisHealth } from "./store/redis-link";
import type { CircuitBreaker } from "./upstream/circuit-breaker";
import { Deadline } from "./upstream/deadline";
import { registeredSources, type SourceName } from "./upstream/source";
import type { TokenCache, TokenSource } from "./upstream/token-cache";
import { UpstreamError } from "./upstream/upstream-error";

/** What readiness looks at for one configured source. */
export interface SourceProbe {
  source: SourceName;
  token: TokenSource;
  circuit: CircuitBreaker;
}

/** A source of one started tenant (several tenants): looked at without asking the vendor anything. */
export interface TenantProbe {
  tenant: string;
  source: SourceName;
  token: Pick<TokenCache, "peek">;
  circuit: CircuitBreaker;
}

export interface SourceHealth {
  configured: boolean;
  token?: "ok" | string;
  /** After a failed token request: seconds until the next one (none is made before). */
  tokenRetryInSeconds?: number;
  circuit?: string;
}

export interface Readiness {
  status: "ready" | "not ready" | "draining";
  /** Configured sources that cannot be served right now (no token, circuit open): reported, not a reason to leave rotation. */
  degraded: SourceName[];
  sources: Record<SourceName, SourceHealth>;
  /** Only with REDIS_URL. Redis being down does not make usergraph unready: it serves without it. */
  redis?: RedisHealth;
  /**
   * With TENANTS_FILE: each started tenant's sources, from what their tokens and circuits already know
   * (`token: "idle"` until a request needs one): one customer's trouble is reported here, never a 503.
   */
  tenants?: Record<string, { degraded: SourceName[]; sources: Record<SourceName, SourceHealth> }>;
}

/**
 * Ready says whether *this replica* can serve: it is started and not draining. A vendor's trouble (no
 * token, an open circuit) is the same on every replica, so taking replicas out of rotation for it would
 * take the other vendor's traffic down with it: it is reported per source in the body (and in metrics and
 * logs) as `degraded`, with a 200. An unconfigured source answers SOURCE_NOT_CONFIGURED on its fields.
 */
export async function checkReadiness(
  probes: readonly SourceProbe[],
  draining: boolean,
  redis?: () => RedisHealth,
  timeoutMs = 3000,
  tenantProbes?: () => readonly TenantProbe[],
): Promise<Readiness> {
  const sources: Record<SourceName, SourceHealth> = {};
  for (const source of registeredSources()) sources[source.name] = { configured: false };
  const degraded: SourceName[] = [];
  await Promise.all(
    probes.map(async (probe) => {
      const health: SourceHealth = { configured: true, circuit: probe.circuit.state };
      try {
        await probe.token.getToken(new Deadline(timeoutMs));
        health.token = "ok";
      } catch (err) {
        // A remembered failure answers at once, without a new login: see TokenCache.
        health.token = describeFailure(err);
        if (err instanceof UpstreamError && err.retryAfter !== undefined) health.tokenRetryInSeconds = err.retryAfter;
        degraded.push(probe.source);
      }
      if (health.circuit === "open" && !degraded.includes(probe.source)) degraded.push(probe.source);
      sources[probe.source] = health;
    }),
  );
  degraded.sort();
  return {
    status: draining ? "draining" : "ready",
    degraded,
    sources,
    ...(redis ? { redis: redis() } : {}),
    ...(tenantProbes ? { tenants: tenantHealth(tenantProbes()) } : {}),
  };
}

function tenantHealth(probes: readonly TenantProbe[]): NonNullable<Readiness["tenants"]> {
  const tenants: NonNullable<Readiness["tenants"]> = {};
  for (const probe of probes) {
    const tenant = (tenants[probe.tenant] ??= { degraded: [], sources: {} });
    const seen = probe.token.peek();
    const health: SourceHealth = {
      configured: true,
      circuit: probe.circuit.state,
      token: seen.state === "failed" ? describeFailure(seen.error) : seen.state,
    };
    if (seen.state === "failed" || health.circuit === "open") tenant.degraded.push(probe.source);
    tenant.sources[probe.source] = health;
  }
  return tenants;
}

function describeFailure(err: unknown): string {
  return err instanceof UpstreamError
    ? `failed: ${err.kind}${err.status ? ` ${err.status}` : ""}${err.upstreamCode ? ` ${err.upstreamCode}` : ""}`
    : "failed";
}
