import DataLoader from "dataloader";
import type { Deadline } from "../upstream/deadline";
import { ESET_BATCH_LIMIT, type EsetClient } from "../upstream/eset.client";
import type { EsetUserDto } from "../upstream/eset.dto";
import { UpstreamError } from "../upstream/upstream-error";
import type { EntityStore, Outcome, StaleNote } from "./entity-store";
import { notConfigured } from "./not-configured";

/** One batchGetUsers for the uuids (≤ 1000); a single uuid goes through GET /v1/users/{uuid}. */
export function fetchEsetUsers(client: EsetClient) {
  return async (uuids: string[], deadline: Deadline): Promise<Map<string, Outcome<EsetUserDto>>> => {
    const out = new Map<string, Outcome<EsetUserDto>>();
    await resolveInto(client, uuids, deadline, out);
    return out;
  };
}

/**
 * batchGetUsers is atomic: one unknown uuid fails the whole call with 404. Bisect until the unknown uuids
 * are isolated, so every known uuid still resolves and only unknown ones become null. With k unknown uuids
 * among n this costs about 2·k·log2(n/k) calls instead of n single GETs; with none it costs one.
 */
async function resolveInto(client: EsetClient, uuids: readonly string[], deadline: Deadline, out: Map<string, Outcome<EsetUserDto>>): Promise<void> {
  if (uuids.length === 1) {
    const uuid = uuids[0]!;
    try {
      out.set(uuid, await client.getUser(uuid, deadline));
    } catch (err) {
      out.set(uuid, err as Error);
    }
    return;
  }
  try {
    const found = await client.batchGetUsers(uuids, deadline);
    for (const uuid of uuids) out.set(uuid, found.get(uuid) ?? null);
  } catch (err) {
    if (err instanceof UpstreamError && err.kind === "http" && err.status === 404) {
      const mid = Math.ceil(uuids.length / 2);
      await Promise.all([resolveInto(client, uuids.slice(0, mid), deadline, out), resolveInto(client, uuids.slice(mid), deadline, out)]);
      return;
    }
    for (const uuid of uuids) out.set(uuid, err as Error);
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
