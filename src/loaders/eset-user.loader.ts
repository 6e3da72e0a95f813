import DataLoader from "dataloader";
import type { Deadline } from "../upstream/deadline";
import { ESET_BATCH_LIMIT, type EsetClient } from "../upstream/eset.client";
import type { EsetUserDto } from "../upstream/eset.dto";
import { UpstreamError } from "../upstream/upstream-error";
import { notConfigured } from "./not-configured";

type Outcome = EsetUserDto | null | Error;

/**
 * One `batchGetUsers` per DataLoader batch (DataLoader cuts batches at ESET's 1000-uuid limit). A single
 * uuid goes through `GET /v1/users/{uuid}` instead.
 */
export function createEsetUserLoader(client: EsetClient | undefined, deadline: Deadline): DataLoader<string, EsetUserDto | null> {
  return new DataLoader<string, EsetUserDto | null>(
    async (uuids) => {
      if (!client) return uuids.map(() => notConfigured("ESET"));
      const outcomes = new Map<string, Outcome>();
      await resolveInto(client, uuids, deadline, outcomes);
      return uuids.map((u) => outcomes.get(u) ?? null);
    },
    { maxBatchSize: ESET_BATCH_LIMIT },
  );
}

/**
 * batchGetUsers is atomic: one unknown uuid fails the whole call with 404. Bisect until the unknown uuids
 * are isolated, so every known uuid still resolves and only unknown ones become null. With k unknown uuids
 * among n this costs about 2·k·log2(n/k) calls instead of n single GETs; with none it costs one.
 */
async function resolveInto(
  client: EsetClient,
  uuids: readonly string[],
  deadline: Deadline,
  out: Map<string, Outcome>,
): Promise<void> {
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
      await Promise.all([
        resolveInto(client, uuids.slice(0, mid), deadline, out),
        resolveInto(client, uuids.slice(mid), deadline, out),
      ]);
      return;
    }
    for (const uuid of uuids) out.set(uuid, err as Error);
  }
}
