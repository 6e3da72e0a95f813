import type { GraphPart } from "../../graphql/graph-part";
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
};
