import { createHash } from "node:crypto";
import { EntityCache } from "../store/entity-cache";
import { ListingBudget } from "../store/listing-budget";
import { SharedListings } from "../store/shared-listings";
import type { RedisLink } from "../store/redis-link";
import { SharedEntities } from "../store/shared-entities";
import type { DefenderClient } from "./defender/client";
import type { DefenderUserDto } from "./defender/dto";
import type { EsetClient } from "./eset/client";
import type { EsetUserDto } from "./eset/dto";
import { fetchDefenderUsers } from "./defender/users/user.loader";
import { EntityStore, type LookupObserver } from "../store/entity-store";
import { fetchEsetUsers } from "./eset/users/user.loader";
import { searchEsetUsersByEmail } from "./eset/users/user-search.loader";
import type { LoaderDeps } from "./loaders";
import { createDefenderRelationStores } from "./defender/relations";
import { esetRoster } from "./eset/user-list/user-roster.listing";

export interface StoresOptions {
  defender?: {
    client: DefenderClient;
    identity: string;
    concurrency: number;
    ttlMs: number;
    /** The client secret: with the identity, it keys the signatures of alert-list cursors (never stored or logged). */
    secret: string;
  };
  eset?: {
    client: EsetClient;
    identity: string;
    ttlMs: number;
    /** The API user's password: with the identity, it keys the signatures of list cursors (never stored or logged). */
    secret: string;
  };
  negativeTtlMs: number;
  staleIfErrorMs: number;
  maxEntries: number;
  maxBytes: number;
  /** LISTINGS_MAX_MB: the bound of every listing kept (store/listing-budget.ts). */
  listingsMaxBytes: number;
  /** ALERT_DELTA_SECONDS in ms. */
  alertDeltaMs: number;
  observe?: LookupObserver;
  /** The shared tier: with it, the in-process cache is a layer in front of Redis. */
  redis?: RedisLink;
}

export interface Stores extends LoaderDeps {
  cache: EntityCache;
  listings: ListingBudget;
}

/** One cache and one store per configured source, created once at start-up. */
export function createStores(options: StoresOptions): Stores {
  const cache = new EntityCache({ maxEntries: options.maxEntries, maxBytes: options.maxBytes });
  const listings = new ListingBudget(options.listingsMaxBytes);
  const common = { cache, negativeMs: options.negativeTtlMs, staleIfErrorMs: options.staleIfErrorMs, observe: options.observe };
  const defenderPrefix = options.defender && `DEFENDER:${fingerprint(options.defender.identity)}:`;
  const esetPrefix = options.eset && `ESET:${fingerprint(options.eset.identity)}:`;
  const redis = options.redis;
  const esetStore = options.eset
    ? new EntityStore<EsetUserDto>({
        ...common,
        source: "ESET",
        keyPrefix: esetPrefix!,
        shared: redis && new SharedEntities(redis, esetPrefix!, "ESET"),
        freshMs: options.eset.ttlMs,
        fetchMany: fetchEsetUsers(options.eset.client),
      })
    : undefined;
  // Link searches (ESET's list filtered by e-mail) cache their answer like an entity, keyed by the term,
  // for the same TTL; the users they list are primed as entities too.
  const searchPrefix = options.eset && `ESET-SEARCH:${fingerprint(options.eset.identity)}:`;
  const defenderStore = options.defender
    ? new EntityStore<DefenderUserDto>({
        ...common,
        source: "DEFENDER",
        keyPrefix: defenderPrefix!,
        shared: redis && new SharedEntities(redis, defenderPrefix!, "DEFENDER"),
        freshMs: options.defender.ttlMs,
        fetchMany: fetchDefenderUsers(options.defender.client, options.defender.concurrency),
      })
    : undefined;
  return {
    cache,
    listings,
    defenderStore,
    defenderRelations:
      options.defender &&
      createDefenderRelationStores({
        ...options.defender,
        users: defenderStore!,
        common,
        keyPrefix: defenderPrefix!,
        redis,
        budget: listings,
        alertDeltaMs: options.alertDeltaMs,
      }),
    esetStore,
    esetSearchStore: options.eset
      ? new EntityStore<EsetUserDto[]>({
          ...common,
          source: "ESET",
          keyPrefix: searchPrefix!,
          shared: redis && new SharedEntities(redis, searchPrefix!, "ESET"),
          freshMs: options.eset.ttlMs,
          fetchMany: searchEsetUsersByEmail(options.eset.client, (users) => esetStore!.prime(users.map((u) => [u.uuid, u] as const))),
        })
      : undefined,
    esetLists: options.eset && { client: options.eset.client, cursorKey: cursorKey(options.eset.identity, options.eset.secret) },
    esetRoster:
      options.eset && esetRoster(options.eset.client, options.eset.ttlMs, listings, redis && new SharedListings(redis, esetPrefix!)),
  };
}

/**
 * The key that signs ESET list cursors: one-way from the ESET account (identity and password), so every
 * replica and every restart with the same account agree, and a cursor minted for another account or
 * altered on the way fails verification.
 */
function cursorKey(identity: string, secret: string): Buffer {
  return createHash("sha256").update("usergraph:eset-list-cursor:v1\0").update(identity).update("\0").update(secret).digest();
}

/** A short, one-way digest of whose credentials an entry was read with (never the credentials themselves). */
export function fingerprint(identity: string): string {
  return createHash("sha256").update(identity).digest("base64url").slice(0, 16);
}
