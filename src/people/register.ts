import type { GraphPart } from "../graphql/graph-part";
import { DefenderUserLinksResolver } from "./defender-user-links.resolver";
import { EsetUserLinksResolver } from "./eset-user-links.resolver";
import { PersonResolver } from "./person.resolver";
import { PEOPLE_PRICES } from "./prices";

/** The cross-vendor features: link fields on both users, and the person view. */
export const peoplePart: GraphPart = {
  name: "PEOPLE",
  resolvers: [EsetUserLinksResolver, DefenderUserLinksResolver, PersonResolver],
  ...PEOPLE_PRICES,
};
