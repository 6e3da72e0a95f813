import { createHash } from "node:crypto";
import { JsonApi } from "../../upstream/http-json";
import { parseJsonLossless } from "../../upstream/lossless-json";
import type { Deadline } from "../../upstream/deadline";
import { notConfigured } from "../../upstream/not-configured";
import type { EntityStore, StaleNote } from "../../store/entity-store";
import { withCacheFastPath, type EntityLoader } from "../../store/entity-loader";
import type { Loaders } from "../loaders";
import type { SourceKit, StartedSource } from "../source";
import { EsetClient, esetErrorFacts, isEsetNotFound } from "./client";
import type { EsetConnection, EsetSettings } from "./config";
import type { EsetUserDto } from "./dto";
import { EsetTokenFlow } from "./eset-token";
import { createEsetUserPages, type EsetListDeps, type EsetUserPages } from "./user-list/user-pages";
import { esetRoster, type EsetRoster, type EsetRosterReader } from "./user-list/user-roster.listing";
import { createEsetUserLoader, fetchEsetUsers } from "./users/user.loader";
import { createEsetUserSearchLoader, searchEsetUsersByEmail } from "./users/user-search.loader";

declare module "../loaders" {
  interface Loaders {
    esetUser: EntityLoader<EsetUserDto>;
    /** ESET users whose e-mail addresses contain a term (ESET's `email` list filter): the raw material of links. */
    esetUserSearch: EntityLoader<EsetUserDto[]>;
    /** Slices of ESET's user list, for `esetUserList`. */
    esetUserPages: EsetUserPages;
    /** ESET's whole user list, kept while fresh (for joins over the fleet: peopleAtRisk). */
    esetRoster(): Promise<EsetRoster>;
  }
}

/** The process-wide stores (cache + single flight) ESET's loaders read through. */
export interface EsetState {
  users: EntityStore<EsetUserDto>;
  search: EntityStore<EsetUserDto[]>;
  lists: EsetListDeps;
  roster: EsetRosterReader;
}

/** ESET's client, token, guards and stores, when ESET_* is set (or the demo's simulator stands in). */
export function startEset(kit: SourceKit<EsetConnection, EsetSettings>): StartedSource<EsetState> | undefined {
  const { connection: credentials, settings } = kit;
  if (!credentials) return undefined;
  kit.redact(credentials.password);
  // Whose quota and whose data: ESET counts calls per API user, and entries never cross accounts.
  const identity = `${credentials.username}|${kit.where(credentials.apiUrl)}`;
  const guards = kit.guard({ identity, windows: settings.rateLimits });
  const flow = new EsetTokenFlow(kit.sender, credentials, kit.log, kit.onToken);
  const token = kit.tokenCache(flow.fetch);
  const pollMs = settings.pendingPollMs;
  const client = new EsetClient(
    new JsonApi({
      source: "ESET",
      baseUrl: credentials.apiUrl,
      sender: kit.sender,
      token,
      errorFacts: esetErrorFacts,
      isNotFound: isEsetNotFound,
      parseBody: parseJsonLossless,
      pending: { initialPollMs: pollMs, maxPollMs: Math.max(pollMs, 5_000), memory: kit.pendingStore(identity) },
    }),
  );
  const ttlMs = settings.cacheTtlMs;
  const users = kit.store<EsetUserDto>({
    keyPrefix: `ESET:${kit.fingerprint(identity)}:`,
    freshMs: ttlMs,
    fetchMany: fetchEsetUsers(client),
  });
  // Link searches (ESET's list filtered by e-mail) cache their answer like an entity, keyed by the term,
  // for the same TTL; the users they list are primed as entities too.
  const search = kit.store<EsetUserDto[]>({
    keyPrefix: `ESET-SEARCH:${kit.fingerprint(identity)}:`,
    freshMs: ttlMs,
    fetchMany: searchEsetUsersByEmail(client, (found) => users.prime(found.map((u) => [u.uuid, u] as const))),
  });
  return {
    runtime: { client, token, guards },
    state: {
      users,
      search,
      lists: { client, cursorKey: cursorKey(identity, credentials.password) },
      roster: esetRoster(client, ttlMs, kit.listings, kit.sharedListings(`ESET:${kit.fingerprint(identity)}:`)),
    },
  };
}

/** ESET's loaders for one request; without its state they answer SOURCE_NOT_CONFIGURED. */
export function addEsetLoaders(
  loaders: Loaders,
  state: EsetState | undefined,
  deadline: Deadline,
  onStale: (note: StaleNote) => void,
): void {
  const users = state?.users;
  const search = state?.search;
  loaders.esetUser = withCacheFastPath(users, deadline, () => createEsetUserLoader(users, deadline, onStale));
  loaders.esetUserSearch = withCacheFastPath(search, deadline, () => createEsetUserSearchLoader(search, deadline, onStale));
  let pages: EsetUserPages | undefined;
  // Few requests page through lists: the reader is built on first use.
  Object.defineProperty(loaders, "esetUserPages", {
    get: () => (pages ??= createEsetUserPages(state?.lists, users, deadline)),
    enumerable: true,
    configurable: true,
  });
  loaders.esetRoster = () => (state ? state.roster(deadline) : Promise.reject(notConfigured("ESET")));
}

/**
 * The key that signs ESET list cursors: one-way from the ESET account (identity and password), so every
 * replica and every restart with the same account agree, and a cursor minted for another account or
 * altered on the way fails verification.
 */
function cursorKey(identity: string, secret: string): Buffer {
  return createHash("sha256").update("usergraph:eset-list-cursor:v1\0").update(identity).update("\0").update(secret).digest();
}
