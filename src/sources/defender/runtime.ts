import { JsonApi } from "../../upstream/http-json";
import { parseJsonLossless } from "../../upstream/lossless-json";
import type { Deadline } from "../../upstream/deadline";
import type { EntityStore, StaleNote } from "../../store/entity-store";
import { withCacheFastPath, type EntityLoader } from "../../store/entity-loader";
import type { Loaders } from "../loaders";
import type { SourceKit, StartedSource } from "../source";
import { DefenderClient, defenderErrorFacts, isDefenderNotFound } from "./client";
import type { DefenderConnection, DefenderSettings } from "./config";
import type { DefenderUserDto } from "./dto";
import { defenderEndpointFamily } from "./endpoint-family";
import { entraClientCredentials } from "./entra-token";
import {
  createDefenderRelationLoaders,
  createDefenderRelationStores,
  type DefenderRelationLoaders,
  type DefenderRelationStores,
} from "./relations";
import { createDefenderUserLoader, fetchDefenderUsers } from "./users/user.loader";

declare module "../loaders" {
  interface Loaders {
    defenderUser: EntityLoader<DefenderUserDto>;
    /** Defender machines, log-on users and alerts (src/sources/defender/relations.ts). */
    defenderRelations: DefenderRelationLoaders;
  }
}

/** The process-wide stores (cache + single flight) Defender's loaders read through. */
export interface DefenderState {
  users: EntityStore<DefenderUserDto>;
  relations: DefenderRelationStores;
}

/** Defender's client, token, guards and stores, when DEFENDER_* is set (or the demo's simulator stands in). */
export function startDefender(kit: SourceKit<DefenderConnection, DefenderSettings>): StartedSource<DefenderState> | undefined {
  const { connection: credentials, settings } = kit;
  if (!credentials) return undefined;
  kit.redact(credentials.clientSecret);
  // Whose quota and whose data: Defender counts calls per app (tenant and client), and entries never cross apps.
  const identity = `${credentials.tenantId}|${credentials.clientId}|${kit.where(credentials.apiUrl)}`;
  const guards = kit.guard({
    identity,
    windows: settings.rateLimits,
    bucketOf: settings.rateLimitScope === "endpoint" ? defenderEndpointFamily : undefined,
  });
  const token = kit.tokenCache(entraClientCredentials(kit.sender, credentials));
  const client = new DefenderClient(
    new JsonApi({
      source: "DEFENDER",
      baseUrl: credentials.apiUrl,
      sender: kit.sender,
      token,
      errorFacts: defenderErrorFacts,
      isNotFound: isDefenderNotFound,
      parseBody: parseJsonLossless,
    }),
  );
  const keyPrefix = `DEFENDER:${kit.fingerprint(identity)}:`;
  const users = kit.store<DefenderUserDto>({
    keyPrefix,
    freshMs: settings.cacheTtlMs,
    fetchMany: fetchDefenderUsers(client, settings.concurrency),
  });
  const relations = createDefenderRelationStores({
    client,
    identity,
    secret: credentials.clientSecret,
    concurrency: settings.concurrency,
    ttlMs: settings.cacheTtlMs,
    users,
    common: kit.storeCommon,
    keyPrefix,
    redis: kit.redis,
    budget: kit.listings,
    alertDeltaMs: kit.config.alertDeltaMs,
  });
  return { runtime: { client, token, guards }, state: { users, relations } };
}

/** Defender's loaders for one request; without its state they answer SOURCE_NOT_CONFIGURED. */
export function addDefenderLoaders(
  loaders: Loaders,
  state: DefenderState | undefined,
  deadline: Deadline,
  onStale: (note: StaleNote) => void,
): void {
  const users = state?.users;
  loaders.defenderUser = withCacheFastPath(users, deadline, () => createDefenderUserLoader(users, deadline, onStale));
  let relations: DefenderRelationLoaders | undefined;
  // Built on first use: most requests ask for users only.
  Object.defineProperty(loaders, "defenderRelations", {
    get: () => (relations ??= createDefenderRelationLoaders(state?.relations, deadline, onStale)),
    enumerable: true,
    configurable: true,
  });
}
