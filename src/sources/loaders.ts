import type { Deadline } from "../upstream/deadline";
import type { DefenderUserDto } from "./defender/dto";
import type { EsetUserDto } from "./eset/dto";
import { createDefenderUserLoader } from "./defender/users/user.loader";
import type { EntityStore, StaleNote } from "../store/entity-store";
import { withCacheFastPath, type EntityLoader } from "../store/entity-loader";
import { createDefenderRelationLoaders, type DefenderRelationLoaders, type DefenderRelationStores } from "./defender/relations";
import { createEsetUserLoader } from "./eset/users/user.loader";
import { createEsetUserPages, type EsetListDeps, type EsetUserPages } from "./eset/user-list/user-pages";
import { createEsetUserSearchLoader } from "./eset/users/user-search.loader";
import type { EsetRoster, EsetRosterReader } from "./eset/user-list/user-roster.listing";
import { notConfigured } from "../upstream/not-configured";

export type { EntityLoader };

export interface Loaders {
  defenderUser: EntityLoader<DefenderUserDto>;
  esetUser: EntityLoader<EsetUserDto>;
  /** ESET users whose e-mail addresses contain a term (ESET's `email` list filter): the raw material of links. */
  esetUserSearch: EntityLoader<EsetUserDto[]>;
  /** Slices of ESET's user list, for `esetUserList`. */
  esetUserPages: EsetUserPages;
  /** Defender machines, log-on users and alerts (src/sources/defender/relations.ts). */
  defenderRelations: DefenderRelationLoaders;
  /** ESET's whole user list, kept while fresh (for joins over the fleet: peopleAtRisk). */
  esetRoster(): Promise<EsetRoster>;
}

/** The process-wide stores (cache + single-flight) the loaders read through; absent for unconfigured sources. */
export interface LoaderDeps {
  defenderStore?: EntityStore<DefenderUserDto>;
  esetStore?: EntityStore<EsetUserDto>;
  esetSearchStore?: EntityStore<EsetUserDto[]>;
  esetLists?: EsetListDeps;
  defenderRelations?: DefenderRelationStores;
  esetRoster?: EsetRosterReader;
}

/** Fresh loaders for one GraphQL request: their caches must never outlive it. */
export function createLoaders(deps: LoaderDeps, deadline: Deadline, onStale: (note: StaleNote) => void): Loaders {
  let pages: EsetUserPages | undefined;
  let relations: DefenderRelationLoaders | undefined;
  return {
    defenderUser: withCacheFastPath(deps.defenderStore, deadline, () => createDefenderUserLoader(deps.defenderStore, deadline, onStale)),
    esetUser: withCacheFastPath(deps.esetStore, deadline, () => createEsetUserLoader(deps.esetStore, deadline, onStale)),
    esetUserSearch: withCacheFastPath(deps.esetSearchStore, deadline, () =>
      createEsetUserSearchLoader(deps.esetSearchStore, deadline, onStale),
    ),
    // Few requests page through lists: the reader is built on first use.
    get esetUserPages() {
      return (pages ??= createEsetUserPages(deps.esetLists, deps.esetStore, deadline));
    },
    // Built on first use too: most requests ask for users only.
    get defenderRelations() {
      return (relations ??= createDefenderRelationLoaders(deps.defenderRelations, deadline, onStale));
    },
    esetRoster: () => (deps.esetRoster ? deps.esetRoster(deadline) : Promise.reject(notConfigured("ESET"))),
  };
}
