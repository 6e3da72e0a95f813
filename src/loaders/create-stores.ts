import { createHash } from "node:crypto";
import { EntityCache } from "../cache/entity-cache";
import type { RedisLink } from "../redis/redis-link";
import { SharedEntities } from "../redis/shared-entities";
import type { DefenderClient } from "../upstream/defender.client";
import type { DefenderUserDto } from "../upstream/defender.dto";
import type { EsetClient } from "../upstream/eset.client";
import type { EsetUserDto } from "../upstream/eset.dto";
import { fetchDefenderUsers } from "./defender-user.loader";
import { EntityStore, type LookupObserver } from "./entity-store";
import { fetchEsetUsers } from "./eset-user.loader";
import type { LoaderDeps } from "./create-loaders";

export interface StoresOptions {
  defender?: { client: DefenderClient; identity: string; concurrency: number; ttlMs: number };
  eset?: { client: EsetClient; identity: string; ttlMs: number };
  negativeTtlMs: number;
  staleIfErrorMs: number;
  maxEntries: number;
  maxBytes: number;
  observe?: LookupObserver;
  /** The shared tier: with it, the in-process cache is a layer in front of Redis. */
  redis?: RedisLink;
}

export interface Stores extends LoaderDeps {
  cache: EntityCache;
}

/** One cache and one store per configured source, created once at start-up. */
export function createStores(options: StoresOptions): Stores {
  const cache = new EntityCache({ maxEntries: options.maxEntries, maxBytes: options.maxBytes });
  const common = { cache, negativeMs: options.negativeTtlMs, staleIfErrorMs: options.staleIfErrorMs, observe: options.observe };
  const defenderPrefix = options.defender && `DEFENDER:${fingerprint(options.defender.identity)}:`;
  const esetPrefix = options.eset && `ESET:${fingerprint(options.eset.identity)}:`;
  const redis = options.redis;
  return {
    cache,
    defenderStore: options.defender
      ? new EntityStore<DefenderUserDto>({
          ...common,
          source: "DEFENDER",
          keyPrefix: defenderPrefix!,
          shared: redis && new SharedEntities(redis, defenderPrefix!, "DEFENDER"),
          freshMs: options.defender.ttlMs,
          fetchMany: fetchDefenderUsers(options.defender.client, options.defender.concurrency),
        })
      : undefined,
    esetStore: options.eset
      ? new EntityStore<EsetUserDto>({
          ...common,
          source: "ESET",
          keyPrefix: esetPrefix!,
          shared: redis && new SharedEntities(redis, esetPrefix!, "ESET"),
          freshMs: options.eset.ttlMs,
          fetchMany: fetchEsetUsers(options.eset.client),
        })
      : undefined,
  };
}

/** A short, one-way digest of whose credentials an entry was read with (never the credentials themselves). */
export function fingerprint(identity: string): string {
  return createHash("sha256").update(identity).digest("base64url").slice(0, 16);
}
