import type { GraphPart } from "../../graphql/graph-part";
import { DefenderAlertListResolver } from "./alerts/alert-list.resolver";
import { DefenderAlertMachineResolver, DefenderMachineAlertsResolver, DefenderUserAlertsResolver } from "./alerts/alert-relations.resolver";
import { DefenderMachineListResolver } from "./machines/machine-list.resolver";
import { DefenderMachineResolver } from "./machines/machine.resolver";
import { DefenderUserMachinesResolver } from "./machines/user-machines.resolver";
import { DEFENDER_PRICES } from "./prices";
import { DefenderUsersAtRiskResolver } from "./risk/users-at-risk.resolver";
import { DefenderUserResolver } from "./users/user.resolver";

/** Microsoft Defender for Endpoint in the graph: users, machines, alerts. */
export const defenderPart: GraphPart = {
  name: "DEFENDER",
  // Every field below needs defender:users:read, checked by the core before the resolver runs.
  reads: ["DEFENDER"],
  resolvers: [
    DefenderUserResolver,
    DefenderMachineResolver,
    DefenderUserMachinesResolver,
    DefenderUserAlertsResolver,
    DefenderMachineAlertsResolver,
    DefenderAlertMachineResolver,
    DefenderAlertListResolver,
    DefenderMachineListResolver,
    DefenderUsersAtRiskResolver,
  ],
  ...DEFENDER_PRICES,
};
