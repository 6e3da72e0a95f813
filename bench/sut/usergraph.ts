import "reflect-metadata";
import { loadConfig } from "../../src/config";
import { startGateway } from "../../src/gateway";
import { SIMULATOR_CREDENTIALS } from "../../src/simulator/simulator";
import { ready } from "./common";

/** (d)/(e) usergraph itself, configured as in production but for the cache TTL and no vendor rate limits. */
async function main(): Promise<void> {
  const sim = process.env.SIM_URL!;
  const gateway = await startGateway(
    loadConfig({
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      AUTH_MODE: "none",
      CACHE_TTL_SECONDS: process.env.CACHE_TTL_SECONDS ?? "0",
      // The bench measures usergraph's own overhead, not the vendors' quotas (bench:quota sets the vendors' limits).
      DEFENDER_RATE_LIMITS: process.env.DEFENDER_RATE_LIMITS ?? "off",
      ESET_RATE_LIMITS: process.env.ESET_RATE_LIMITS ?? "off",
      // Counted on every request (the per-caller counter is part of the hot path being measured), never reached.
      CALLER_RATE_LIMIT: "100000000/1s",
      UPSTREAM_CONNECTIONS: "256",
      DEFENDER_TENANT_ID: SIMULATOR_CREDENTIALS.tenantId,
      DEFENDER_CLIENT_ID: SIMULATOR_CREDENTIALS.clientId,
      DEFENDER_CLIENT_SECRET: SIMULATOR_CREDENTIALS.clientSecret,
      DEFENDER_API_URL: sim,
      DEFENDER_TOKEN_URL: process.env.DEFENDER_TOKEN_URL!,
      ESET_USERNAME: SIMULATOR_CREDENTIALS.esetUsername,
      ESET_PASSWORD: SIMULATOR_CREDENTIALS.esetPassword,
      ESET_API_URL: sim,
      ESET_TOKEN_URL: process.env.ESET_TOKEN_URL!,
      // bench:quota's dashboard may bound the kept listings or their delta refresh; the defaults otherwise.
      ...(process.env.LISTINGS_MAX_MB ? { LISTINGS_MAX_MB: process.env.LISTINGS_MAX_MB } : {}),
      ...(process.env.ALERT_DELTA_SECONDS ? { ALERT_DELTA_SECONDS: process.env.ALERT_DELTA_SECONDS } : {}),
      // (h)/(j): the bench's queries registered, sent by documentId (issue 21).
      TRUSTED_DOCUMENTS: process.env.TRUSTED_DOCUMENTS ?? "off",
      TRUSTED_DOCUMENTS_MANIFESTS: process.env.TRUSTED_DOCUMENTS_MANIFESTS ?? "",
      // Unset: the default (the fast path with log or enforce, none with off), as a deployment would run.
      ...(process.env.TRUSTED_DOCUMENTS_COMPILED ? { TRUSTED_DOCUMENTS_COMPILED: process.env.TRUSTED_DOCUMENTS_COMPILED } : {}),
    }),
  );
  ready({ url: gateway.url });
  // A clean exit, so `--cpu-prof` profiles get written.
  process.on("SIGINT", () => void gateway.stop().then(() => process.exit(0)));
}

void main();
