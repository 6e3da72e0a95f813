import DataLoader from "dataloader";
import type { Deadline } from "../upstream/deadline";
import { ESET_BATCH_LIMIT, type EsetClient } from "../upstream/eset.client";
import type { EsetUserDto } from "../upstream/eset.dto";
import { UpstreamError } from "../upstream/upstream-error";
import type { EntityStore, Outcome, StaleNote } from "./entity-store";
import { notConfigured } from "./not-configured";

/**
 * One batchGetUsers for the uuids (≤ 1000); a single uuid goes through GET /v1/users/{uuid}. When the
 * batch fails on unknown uuids, see `resolveInto`: n uuids cost at most n + ceil(log2 n) + 1 calls.
 */
export function fetchEsetUsers(client: EsetClient) {
  return async (uuids: string[], deadline: Deadline): Promise<Map<string, Outcome<EsetUserDto>>> => {
    const out = new Map<string, Outcome<EsetUserDto>>();
    const misses = { left: Math.ceil(Math.log2(Math.max(1, uuids.length))) + 1 };
    await resolveInto(client, uuids, deadline, out, misses);
    return out;
  };
}

/**
 * batchGetUsers is atomic: one unknown uuid fails the whole call with 404. Bisect until the unknown uuids
 * are isolated, so every known uuid still resolves and only unknown ones become null: with k unknown uuids
 * among n this costs about 2·k·log2(n/k) calls; with none it costs one.
 *
 * Bisection pays only while unknown uuids are few: n unknown uuids would cost 2n − 1 calls. So a fetch may
 * spend at most ceil(log2 n) + 1 batch calls that fail (`misses`, reserved before each batch call goes out
 * and handed back when it succeeds); past that, what is left is asked with single GETs. Every other call
 * (a batch that succeeds, a GET) settles at least one uuid that no other call asks for, so a fetch costs
 * at most n + ceil(log2 n) + 1 calls whatever the mix. Unknown uuids are then remembered by the entity
 * store's negative cache (CACHE_NEGATIVE_TTL_SECONDS).
 */
async function resolveInto(
  client: EsetClient,
  uuids: readonly string[],
  deadline: Deadline,
  out: Map<string, Outcome<EsetUserDto>>,
  misses: { left: number },
): Promise<void> {
  if (uuids.length === 1 || misses.left === 0) {
    await Promise.all(uuids.map((uuid) => getOne(client, uuid, deadline, out)));
    return;
  }
  misses.left--;
  try {
    const found = await client.batchGetUsers(uuids, deadline);
    misses.left++;
    for (const uuid of uuids) out.set(uuid, found.get(uuid) ?? null);
  } catch (err) {
    if (err instanceof UpstreamError && err.kind === "http" && err.status === 404) {
      const mid = Math.ceil(uuids.length / 2);
      await Promise.all([resolveInto(client, uuids.slice(0, mid), deadline, out, misses), resolveInto(client, uuids.slice(mid), deadline, out, misses)]);
      return;
    }
    misses.left++;
    for (const uuid of uuids) out.set(uuid, err as Error);
  }
}

async function getOne(client: EsetClient, uuid: string, deadline: Deadline, out: Map<string, Outcome<EsetUserDto>>): Promise<void> {
  try {
    out.set(uuid, await client.getUser(uuid, deadline));
  } catch (err) {
    out.set(uuid, err as Error);
  }
}

/** Per request: DataLoader cuts batches at ESET's 1000-uuid limit and dedups repeated uuids. */
export function createEsetUserLoader(
  store: EntityStore<EsetUserDto> | undefined,
  deadline: Deadline,
  onStale: (note: StaleNote) => void,
): DataLoader<string, EsetUserDto | null> {
  return new DataLoader<string, EsetUserDto | null>(
    async (uuids) => {
      if (!store) return uuids.map(() => notConfigured("ESET"));
      return store.loadMany(uuids, deadline, onStale);
    },
    { maxBatchSize: ESET_BATCH_LIMIT },
  );
}
