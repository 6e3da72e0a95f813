import type { RedisHealth } from "./store/redis-link";
import type { CircuitBreaker } from "./upstream/circuit-breaker";
import { Deadline } from "./upstream/deadline";
import { registeredSources, type SourceName } from "./upstream/source";
import type { TokenSource } from "./upstream/token-cache";
import { UpstreamError } from "./upstream/upstream-error";

/** What readiness looks at for one configured source. */
export interface SourceProbe {
  source: SourceName;
  token: TokenSource;
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
        health.token =
          err instanceof UpstreamError
            ? `failed: ${err.kind}${err.status ? ` ${err.status}` : ""}${err.upstreamCode ? ` ${err.upstreamCode}` : ""}`
            : "failed";
        if (err instanceof UpstreamError && err.retryAfter !== undefined) health.tokenRetryInSeconds = err.retryAfter;
        degraded.push(probe.source);
      }
      if (health.circuit === "open" && !degraded.includes(probe.source)) degraded.push(probe.source);
      sources[probe.source] = health;
    }),
  );
  degraded.sort();
  return { status: draining ? "draining" : "ready", degraded, sources, ...(redis ? { redis: redis() } : {}) };
}
