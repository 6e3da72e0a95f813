import DataLoader from "dataloader";
import type { Deadline } from "../../../upstream/deadline";
import type { DefenderClient } from "../client";
import type { DefenderUserDto } from "../dto";
import { mapSettledWithLimit } from "../../../upstream/concurrency";
import type { EntityStore, Outcome, StaleNote } from "../../../store/entity-store";
import { notConfigured } from "../../../upstream/not-configured";

/**
 * Defender has no batch endpoint: fetching a batch is one GET per distinct id, at most `concurrency` at a
 * time (the rate limiter may hold some back further).
 */
export function fetchDefenderUsers(client: DefenderClient, concurrency: number) {
  return async (ids: string[], deadline: Deadline): Promise<Map<string, Outcome<DefenderUserDto>>> => {
    const results = await mapSettledWithLimit(ids, concurrency, (id) => client.getUser(id, deadline));
    return new Map(ids.map((id, i) => [id, results[i]!]));
  };
}

/** Per request: DataLoader's cache makes the same id asked twice (aliases, lists) one load. */
export function createDefenderUserLoader(
  store: EntityStore<DefenderUserDto> | undefined,
  deadline: Deadline,
  onStale: (note: StaleNote) => void,
): DataLoader<string, DefenderUserDto | null> {
  return new DataLoader<string, DefenderUserDto | null>(async (ids) => {
    if (!store) return ids.map(() => notConfigured("DEFENDER"));
    return store.loadMany(ids, deadline, onStale);
  });
}
