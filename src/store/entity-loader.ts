import type DataLoader from "dataloader";
import type { Deadline } from "../upstream/deadline";
import type { EntityStore } from "./entity-store";

/** A value now (fresh in the entity cache) or later (through the request's DataLoader). */
export interface EntityLoader<V> {
  load(key: string): V | null | Promise<V | null>;
}

/** Cache hits answer synchronously; everything else (and the DataLoader itself) waits for the first miss. */
export function withCacheFastPath<V>(
  store: EntityStore<V> | undefined,
  deadline: Deadline,
  create: () => DataLoader<string, V | null>,
): EntityLoader<V> {
  let loader: DataLoader<string, V | null> | undefined;
  return {
    load(key) {
      const hit = store?.peekFresh(key, deadline);
      return hit !== undefined ? hit : (loader ??= create()).load(key);
    },
  };
}
