import { Field, Int, ObjectType } from "type-graphql";
import { PageInfo } from "../graphql/page-info.type";
import { DateTimeScalar } from "../graphql/scalars";
import { DefenderUserRisk } from "../sources/defender/risk/user-risk.type";
import { ProtectionStatus } from "../sources/eset/enums";
import { EsetUser } from "../sources/eset/users/user.type";
import { LinkReason } from "./link.type";

@ObjectType({
  description:
    "A Defender account at risk joined to its ESET users by the link rules (alert evidence first, then UPN, e-mail, …): what no single vendor console shows.",
})
export class PersonRisk {
  @Field(() => DefenderUserRisk, { description: "The Defender account and its counted alerts." })
  defender!: DefenderUserRisk;

  @Field(() => [EsetUser], {
    description:
      "The ESET users linked to the account (at most 8; weakestProtection and matchedOn count them all); empty when none is (the coverage gap).",
  })
  esetUsers!: EsetUser[];

  @Field(() => [LinkReason], { description: "Why each ESET user is linked, strongest first; each reason once." })
  matchedOn!: LinkReason[];

  @Field(() => ProtectionStatus, {
    nullable: true,
    description:
      "The weakest ESET protection among the linked users (UNPROTECTED < UNSPECIFIED < PENDING < PARTIALLY_PROTECTED < FULLY_PROTECTED); null when no ESET user is linked.",
  })
  weakestProtection!: ProtectionStatus | null;
}

@ObjectType({ description: "One person at risk in a list, with the cursor that continues the list after it." })
export class PersonRiskEdge {
  @Field(() => String, { description: "Pass as after: to continue after this person (with the same arguments). Opaque." })
  cursor!: string;

  @Field(() => PersonRisk, { description: "The person." })
  node!: PersonRisk;
}

@ObjectType({
  description:
    "People at risk, in the order of defenderUsersAtRisk, Relay-style: from one kept Defender alert listing and ESET's kept user list.",
})
export class PersonRiskConnection {
  @Field(() => Int, { description: "How many people match (all pages)." })
  totalCount!: number;

  @Field(() => PageInfo, { description: "Whether more people follow, and the cursors to continue from." })
  pageInfo!: PageInfo;

  @Field(() => [PersonRiskEdge], { description: "The people of this page, riskiest first, each with its cursor." })
  edges!: PersonRiskEdge[];

  @Field(() => DateTimeScalar, { description: "When the Defender alert listing was read (the ranking is as of then)." })
  listedAt!: Date;

  @Field(() => DateTimeScalar, { description: "When ESET's user list was read (the links and protection are as of then)." })
  esetListedAt!: Date;

  @Field(() => Boolean, {
    description:
      "Whether both listings are whole: false when the alert window outgrew 5 pages of 10,000 alerts or ESET's user list 10 pages of 1,000 users (the join then covers what was listed).",
  })
  complete!: boolean;
}
