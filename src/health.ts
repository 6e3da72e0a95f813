import type { RedisHealth } from "./redis/redis-link";
import type { CircuitBreaker } from "./upstream/circuit-breaker";
import { Deadline } from "./upstream/deadline";
import type { SourceName } from "./upstream/source";
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
  sources: Record<SourceName, SourceHealth>;
  /** Only with REDIS_URL. Redis being down does not make usergraph unready: it serves without it. */
  redis?: RedisHealth;
}

/**
 * Ready when every configured source can get a token (a cached one counts) and its circuit is not open.
 * An unconfigured source does not make the service unready: its fields answer SOURCE_NOT_CONFIGURED.
 */
export async function checkReadiness(
  probes: readonly SourceProbe[],
  draining: boolean,
  redis?: () => RedisHealth,
  timeoutMs = 3000,
): Promise<Readiness> {
  const sources: Record<SourceName, SourceHealth> = { DEFENDER: { configured: false }, ESET: { configured: false } };
  let ready = !draining;
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
        ready = false;
      }
      if (health.circuit === "open") ready = false;
      sources[probe.source] = health;
    }),
  );
  return { status: draining ? "draining" : ready ? "ready" : "not ready", sources, ...(redis ? { redis: redis() } : {}) };
}
