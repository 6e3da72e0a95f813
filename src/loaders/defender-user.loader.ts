import DataLoader from "dataloader";
import type { Deadline } from "../upstream/deadline";
import type { DefenderClient } from "../upstream/defender.client";
import type { DefenderUserDto } from "../upstream/defender.dto";
import { mapSettledWithLimit } from "./concurrency";
import { notConfigured } from "./not-configured";

/**
 * Defender has no batch endpoint: a batch is one GET per distinct id, at most `concurrency` at a time.
 * DataLoader's per-request cache makes the same id asked twice (aliases, lists) one fetch.
 */
export function createDefenderUserLoader(
  client: DefenderClient | undefined,
  deadline: Deadline,
  concurrency: number,
): DataLoader<string, DefenderUserDto | null> {
  return new DataLoader<string, DefenderUserDto | null>(async (ids) => {
    if (!client) return ids.map(() => notConfigured("DEFENDER"));
    return mapSettledWithLimit(ids, concurrency, (id) => client.getUser(id, deadline));
  });
}
