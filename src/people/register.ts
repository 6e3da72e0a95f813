import type { GraphPart } from "../graphql/graph-part";
import { DefenderUserLinksResolver } from "./defender-user-links.resolver";
import { EsetUserLinksResolver } from "./eset-user-links.resolver";
import { PeopleAtRiskResolver } from "./people-at-risk.resolver";
import { PersonResolver } from "./person.resolver";
import { PEOPLE_PRICES } from "./prices";

/** The cross-vendor features: link fields on both users, and the person view. */
export const peoplePart: GraphPart = {
  name: "PEOPLE",
  resolvers: [EsetUserLinksResolver, DefenderUserLinksResolver, PersonResolver, PeopleAtRiskResolver],
  // A field reads both sources (so needs both scopes) unless named here. The core checks before the resolver runs.
  reads: ["DEFENDER", "ESET"],
  fieldReads: {
    // Each side of a person is served or refused on its own (the resolver asks which it may read): one scope reaches the query.
    "Query.person": { anyOf: ["DEFENDER", "ESET"] },
    "Person.defenderUsers": { every: ["DEFENDER"] },
    "Person.esetUsers": { every: ["ESET"] },
    // The links of one vendor's user cost calls to the other vendor only.
    "EsetUser.defenderUsers": { every: ["DEFENDER"] },
    "EsetUser.defenderLinks": { every: ["DEFENDER"] },
    "DefenderUser.esetUsers": { every: ["ESET"] },
    "DefenderUser.esetLinks": { every: ["ESET"] },
  },
  ...PEOPLE_PRICES,
};
