import type DataLoader from "dataloader";
import type { Deadline } from "../upstream/deadline";
import type { DefenderClient } from "../upstream/defender.client";
import type { DefenderUserDto } from "../upstream/defender.dto";
import type { EsetClient } from "../upstream/eset.client";
import type { EsetUserDto } from "../upstream/eset.dto";
import { createDefenderUserLoader } from "./defender-user.loader";
import { createEsetUserLoader } from "./eset-user.loader";

export interface Loaders {
  defenderUser: DataLoader<string, DefenderUserDto | null>;
  esetUser: DataLoader<string, EsetUserDto | null>;
}

export interface LoaderDeps {
  defender?: DefenderClient;
  eset?: EsetClient;
  defenderConcurrency: number;
}

/** Fresh loaders for one GraphQL request: their caches must never outlive it. */
export function createLoaders(deps: LoaderDeps, deadline: Deadline): Loaders {
  return {
    defenderUser: createDefenderUserLoader(deps.defender, deadline, deps.defenderConcurrency),
    esetUser: createEsetUserLoader(deps.eset, deadline),
  };
}
