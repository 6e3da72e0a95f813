import type DataLoader from "dataloader";
import type { Deadline } from "../upstream/deadline";
import type { DefenderUserDto } from "../upstream/defender.dto";
import type { EsetUserDto } from "../upstream/eset.dto";
import { createDefenderUserLoader } from "./defender-user.loader";
import type { EntityStore, StaleNote } from "./entity-store";
import { createEsetUserLoader } from "./eset-user.loader";

export interface Loaders {
  defenderUser: DataLoader<string, DefenderUserDto | null>;
  esetUser: DataLoader<string, EsetUserDto | null>;
}

/** The process-wide stores (cache + single-flight) the loaders read through; absent for unconfigured sources. */
export interface LoaderDeps {
  defenderStore?: EntityStore<DefenderUserDto>;
  esetStore?: EntityStore<EsetUserDto>;
}

/** Fresh loaders for one GraphQL request: their caches must never outlive it. */
export function createLoaders(deps: LoaderDeps, deadline: Deadline, onStale: (note: StaleNote) => void): Loaders {
  return {
    defenderUser: createDefenderUserLoader(deps.defenderStore, deadline, onStale),
    esetUser: createEsetUserLoader(deps.esetStore, deadline, onStale),
  };
}
