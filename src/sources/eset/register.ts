import type { GraphPart } from "../../graphql/graph-part";
import { mapMaybe } from "../../graphql/maybe-promise";
import { ESET_UUID_MESSAGE, isValidEsetUuid } from "./id-rules";
import { toEsetUser } from "./users/user.mapper";
import { ErrorCode } from "../../errors/error-code";
import type { SourceDefinition } from "../source";
import { esetConfig, esetOnSimulator, type EsetConnection, type EsetSettings } from "./config";
import { addEsetLoaders, startEset, type EsetState } from "./runtime";
import { ESET_PRICES } from "./prices";
import { EsetUserListResolver } from "./user-list/user-list.resolver";
import { EsetUserResolver } from "./users/user.resolver";

/** ESET Connect in the graph: users, and the user list. */
export const esetPart: GraphPart = {
  name: "ESET",
  // Every field below needs eset:users:read, checked by the core before the resolver runs.
  reads: ["ESET"],
  resolvers: [EsetUserResolver, EsetUserListResolver],
  ...ESET_PRICES,
  // Federation: a router's EsetUser representation is looked up like esetUser(uuid:).
  entities: {
    EsetUser: {
      key: "uuid",
      isValid: isValidEsetUuid,
      message: ESET_UUID_MESSAGE,
      resolve: (uuid, ctx) => mapMaybe(ctx.loaders.esetUser.load(uuid), (dto) => (dto ? toEsetUser(dto, ctx.reportUnknownEnum) : null)),
    },
  },
};

/** ESET as a source: its words, scope and part of the graph (src/sources/source.ts). */
export const esetSource: SourceDefinition<EsetState, EsetConnection, EsetSettings> = {
  name: "ESET",
  title: "ESET Connect",
  short: "ESET",
  scope: "eset:users:read",
  credentials: "ESET_USERNAME and ESET_PASSWORD",
  credentialCheck: "ESET_USERNAME / ESET_PASSWORD / ESET_REGION",
  message: (err, code, status) => {
    if (code === ErrorCode.UPSTREAM_FORBIDDEN)
      return `ESET Connect refused access${status}: the API user needs the Integrations permission and access to user management.`;
    if (code === ErrorCode.UPSTREAM_UNAVAILABLE && err.status === 501)
      return `ESET Connect user management is not available for this account${status}: it needs an ESET Cloud Office Security subscription.`;
    return undefined;
  },
  part: esetPart,
  config: esetConfig,
  demo: esetOnSimulator,
  start: startEset,
  addLoaders: addEsetLoaders,
};
