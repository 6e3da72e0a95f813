import type { SourceConfigSpec } from "../../config";
import type { RateWindow } from "../../upstream/rate-limiter";
import type { Simulator } from "../../simulator/simulator";

/** Where and as whom usergraph calls Defender: an Entra app's client credentials. */
export interface DefenderConnection {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  apiUrl: URL;
  tokenUrl: URL;
  scope: string;
}

export interface DefenderSettings {
  /** DEFENDER_CONCURRENCY: Defender has no batch endpoint, so lookups run this many at a time. */
  concurrency: number;
  /** DEFENDER_RATE_LIMITS; empty = unlimited. */
  rateLimits: RateWindow[];
  /** One Defender budget for the app, or one per endpoint family (users, machines, alerts). */
  rateLimitScope: "app" | "endpoint";
  cacheTtlMs: number;
}

const CREDENTIALS = ["DEFENDER_TENANT_ID", "DEFENDER_CLIENT_ID", "DEFENDER_CLIENT_SECRET"] as const;

/** Defender's variables (docs/configuration.md), read by src/config.ts like every source's. */
export const defenderConfig: SourceConfigSpec<DefenderConnection, DefenderSettings> = {
  credentialVariables: CREDENTIALS,
  tenant: {
    key: "defender",
    fields: {
      tenantId: { variable: "DEFENDER_TENANT_ID" },
      clientId: { variable: "DEFENDER_CLIENT_ID" },
      clientSecretEnv: { variable: "DEFENDER_CLIENT_SECRET", secret: true },
      apiUrl: { variable: "DEFENDER_API_URL" },
      tokenUrl: { variable: "DEFENDER_TOKEN_URL" },
      scope: { variable: "DEFENDER_SCOPE" },
    },
  },
  connection(read, env, problems) {
    const given = CREDENTIALS.filter((n) => (env[n] ?? "").trim() !== "");
    if (given.length === 0) return undefined;
    if (given.length < CREDENTIALS.length) {
      const missing = CREDENTIALS.filter((n) => !given.includes(n));
      problems.push(
        `${missing.join(" and ")} ${missing.length === 1 ? "is" : "are"} missing: Defender needs all of ${CREDENTIALS.join(", ")} (set: ${given.join(", ")})`,
      );
      return undefined;
    }
    const tenantId = env.DEFENDER_TENANT_ID!.trim();
    if (!/^[A-Za-z0-9.-]{1,256}$/.test(tenantId)) {
      problems.push("DEFENDER_TENANT_ID must be a tenant GUID or a domain name such as contoso.onmicrosoft.com");
    }
    const apiUrl = read.url("DEFENDER_API_URL", "https://api.security.microsoft.com");
    const tokenUrl = read.url("DEFENDER_TOKEN_URL", "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token", (s) =>
      s.replace("{tenant}", encodeURIComponent(tenantId)),
    );
    if (!apiUrl || !tokenUrl) return undefined;
    return {
      tenantId,
      clientId: env.DEFENDER_CLIENT_ID!.trim(),
      clientSecret: env.DEFENDER_CLIENT_SECRET!,
      apiUrl,
      tokenUrl,
      scope: env.DEFENDER_SCOPE?.trim() || "https://api.securitycenter.microsoft.com/.default",
    };
  },
  settings: (read, { cacheTtlSeconds }) => ({
    settings: {
      concurrency: read.int("DEFENDER_CONCURRENCY", 25, 1, 100),
      // Defender's documented limits: 100 calls a minute and 1,500 an hour per app.
      rateLimits: read.rate("DEFENDER_RATE_LIMITS", "100/60s,1500/1h"),
      // "Per API" in Defender's docs may mean per endpoint; unverified, so one budget for the app by default.
      rateLimitScope: read.oneOf("DEFENDER_RATE_LIMIT_SCOPE", ["app", "endpoint"], "app") as "app" | "endpoint",
      cacheTtlMs: 1000 * read.int("DEFENDER_CACHE_TTL_SECONDS", cacheTtlSeconds, 0, 86_400),
    },
    // Priced in worst-case Defender calls. Defender allows 100 calls a minute for the whole app: an
    // operation that may need more cannot finish within a minute and would starve every other caller.
    maxCost: read.int("MAX_DEFENDER_COST", 100, 1, 100_000_000),
    maxListIds: { defenderUsers: read.int("MAX_DEFENDER_IDS", 100, 1, 100_000) },
  }),
};

/** The demo: Defender's side of the built-in simulator, with the credentials it accepts. */
export function defenderOnSimulator(simulator: Simulator): DefenderConnection {
  return {
    tenantId: simulator.credentials.tenantId,
    clientId: simulator.credentials.clientId,
    clientSecret: simulator.credentials.clientSecret,
    scope: simulator.credentials.scope,
    apiUrl: new URL(simulator.url),
    tokenUrl: new URL(simulator.defenderTokenUrl),
  };
}
