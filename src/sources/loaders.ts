import type { Deadline } from "../upstream/deadline";
import type { StaleNote } from "../store/entity-store";
import type { EntityLoader } from "../store/entity-loader";
import type { StartedEntry } from "./clients";

export type { EntityLoader };

/**
 * The loaders of one request, as resolvers read them (`ctx.loaders.<name>`). Empty here: each source adds
 * its own to this interface from its folder (`declare module "../loaders"`, e.g. src/sources/eset/loaders.ts)
 * and to the object in its `addLoaders`, so the core names none.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Loaders {}

/** Fresh loaders for one GraphQL request: their caches must never outlive it. */
export function createLoaders(started: readonly StartedEntry[], deadline: Deadline, onStale: (note: StaleNote) => void): Loaders {
  const loaders = {} as Loaders;
  for (const { source, state } of started) source.addLoaders(loaders, state, deadline, onStale);
  return loaders;
}
