import type { SourceConfigSpec } from "../../config";
import type { RateWindow } from "../../upstream/rate-limiter";
import type { Simulator } from "../../simulator/simulator";

export const ESET_REGIONS = ["eu", "de", "us", "ca"] as const;
export type EsetRegion = (typeof ESET_REGIONS)[number];

/** Where and as whom usergraph calls ESET Connect: an API user of the ESET account. */
export interface EsetConnection {
  username: string;
  password: string;
  region: EsetRegion;
  apiUrl: URL;
  tokenUrl: URL;
}

export interface EsetSettings {
  /** ESET_PENDING_POLL_MS: the first wait before asking again for a 202'd answer. */
  pendingPollMs: number;
  /** ESET_RATE_LIMITS; empty = unlimited. */
  rateLimits: RateWindow[];
  cacheTtlMs: number;
}

const CREDENTIALS = ["ESET_USERNAME", "ESET_PASSWORD"] as const;

/** ESET's variables (docs/configuration.md), read by src/config.ts like every source's. */
export const esetConfig: SourceConfigSpec<EsetConnection, EsetSettings> = {
  credentialVariables: CREDENTIALS,
  tenant: {
    key: "eset",
    fields: {
      usernameEnv: { variable: "ESET_USERNAME", secret: true },
      passwordEnv: { variable: "ESET_PASSWORD", secret: true },
      region: { variable: "ESET_REGION" },
      apiUrl: { variable: "ESET_API_URL" },
      tokenUrl: { variable: "ESET_TOKEN_URL" },
    },
  },
  connection(read, env, problems) {
    const region = read.oneOf("ESET_REGION", ESET_REGIONS, "eu", "; ESET user management has no Japan host") as EsetRegion;
    const given = CREDENTIALS.filter((n) => (env[n] ?? "") !== "");
    if (given.length === 0) return undefined;
    if (given.length < CREDENTIALS.length) {
      const missing = CREDENTIALS.find((n) => !given.includes(n))!;
      problems.push(`${missing} is missing: ESET needs both ESET_USERNAME and ESET_PASSWORD`);
      return undefined;
    }
    const apiUrl = read.url("ESET_API_URL", "https://{region}.user-management.eset.systems", (s) => s.replace("{region}", region));
    const tokenUrl = read.url("ESET_TOKEN_URL", "https://{region}.business-account.iam.eset.systems/oauth/token", (s) =>
      s.replace("{region}", region),
    );
    if (!apiUrl || !tokenUrl) return undefined;
    return { username: env.ESET_USERNAME!.trim(), password: env.ESET_PASSWORD!, region, apiUrl, tokenUrl };
  },
  settings: (read, { cacheTtlSeconds }) => ({
    settings: {
      pendingPollMs: read.int("ESET_PENDING_POLL_MS", 1_000, 1, 60_000),
      // ESET's documented limit: 10 calls a second.
      rateLimits: read.rate("ESET_RATE_LIMITS", "10/1s"),
      cacheTtlMs: 1000 * read.int("ESET_CACHE_TTL_SECONDS", cacheTtlSeconds, 0, 86_400),
    },
    maxListIds: { esetUsers: read.int("MAX_ESET_IDS", 1000, 1, 1_000_000) },
  }),
};

/** The demo: ESET's side of the built-in simulator, with the credentials it accepts. */
export function esetOnSimulator(simulator: Simulator): EsetConnection {
  return {
    username: simulator.credentials.esetUsername,
    password: simulator.credentials.esetPassword,
    region: "eu",
    apiUrl: new URL(simulator.url),
    tokenUrl: new URL(simulator.esetTokenUrl),
  };
}
