import type { GraphPart } from "../../graphql/graph-part";
import { mapMaybe } from "../../graphql/maybe-promise";
import { DEFENDER_ID_MESSAGE, isValidDefenderId } from "./id-rules";
import { toDefenderUser } from "./users/user.mapper";
import { ErrorCode } from "../../errors/error-code";
import type { SourceDefinition } from "../source";
import { defenderConfig, defenderOnSimulator, type DefenderConnection, type DefenderSettings } from "./config";
import { addDefenderLoaders, startDefender, type DefenderState } from "./runtime";
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
  // Federation: a router's DefenderUser representation is looked up like defenderUser(id:).
  entities: {
    DefenderUser: {
      key: "id",
      isValid: isValidDefenderId,
      message: DEFENDER_ID_MESSAGE,
      resolve: (id, ctx) => mapMaybe(ctx.loaders.defenderUser.load(id), (dto) => (dto ? toDefenderUser(dto) : null)),
    },
  },
};

/** Defender as a source: its words, scope, own cost limit and part of the graph (src/sources/source.ts). */
export const defenderSource: SourceDefinition<DefenderState, DefenderConnection, DefenderSettings> = {
  name: "DEFENDER",
  title: "Defender for Endpoint",
  short: "Defender",
  scope: "defender:users:read",
  credentials: "DEFENDER_TENANT_ID, DEFENDER_CLIENT_ID and DEFENDER_CLIENT_SECRET",
  credentialCheck: "DEFENDER_TENANT_ID / DEFENDER_CLIENT_ID / DEFENDER_CLIENT_SECRET (and the app's User.Read.All permission)",
  message: (err, code, status) =>
    code === ErrorCode.UPSTREAM_FORBIDDEN
      ? `Defender for Endpoint refused access${status}: the Entra app needs the WindowsDefenderATP application permission ${err.requiredPermission ?? "User.Read.All"}, with admin consent.`
      : undefined,
  // Defender allows 100 calls a minute for the whole app: an operation has a cap of its own.
  costLimit: { setting: "MAX_DEFENDER_COST" },
  part: defenderPart,
  config: defenderConfig,
  demo: defenderOnSimulator,
  start: startDefender,
  addLoaders: addDefenderLoaders,
};
