import { Field, ID, Int, ObjectType } from "type-graphql";
import { PageInfo } from "../../../graphql/page-info.type";
import { DateTimeScalar } from "../../../graphql/scalars";
import { AlertSeverity } from "../alerts/alert.enums";
import type { RiskRow } from "./risk-view";

@ObjectType({
  description:
    "A Defender account ranked by its alerts in a window (grouped by the alerts' relatedUser): counts, its alerts, and the account itself when asked.",
})
export class DefenderUserRisk {
  @Field(() => ID, { description: 'The account as the alerts name it: "domain\\user" lower-cased (bare when the alerts name no domain).' })
  id!: string;

  @Field(() => String, { description: 'Account name without the domain, as the alerts write it, e.g. "alice".' })
  accountName!: string;

  @Field(() => String, { nullable: true, description: 'Account domain as the alerts write it, e.g. "contoso"; null when they name none.' })
  accountDomain!: string | null;

  @Field(() => AlertSeverity, { description: "The highest severity among the counted alerts." })
  highestSeverity!: AlertSeverity;

  @Field(() => Int, { description: "How many alerts count (in the window, at least minSeverity, of the statuses asked)." })
  alertCount!: number;

  @Field(() => Int, { description: "How many of them are open (NEW or IN_PROGRESS)." })
  openAlertCount!: number;

  @Field(() => DateTimeScalar, { nullable: true, description: "The latest lastUpdateTime among them." })
  lastAlertTime!: Date | null;

  /** The row behind it (alerts, evidence): not a GraphQL field. */
  row!: RiskRow;
}

@ObjectType({ description: "One account at risk in a list, with the cursor that continues the list after it." })
export class DefenderUserRiskEdge {
  @Field(() => String, { description: "Pass as after: to continue after this account (with the same arguments). Opaque." })
  cursor!: string;

  @Field(() => DefenderUserRisk, { description: "The account and its counts." })
  node!: DefenderUserRisk;
}

@ObjectType({
  description:
    "Defender accounts ranked by their alerts (highest severity, then open alerts, then the latest alert; id breaks ties), Relay-style, from one kept alert listing.",
})
export class DefenderUserRiskConnection {
  @Field(() => Int, { description: "How many accounts have counted alerts (all pages)." })
  totalCount!: number;

  @Field(() => PageInfo, { description: "Whether more accounts follow, and the cursors to continue from." })
  pageInfo!: PageInfo;

  @Field(() => [DefenderUserRiskEdge], { description: "The accounts of this page, riskiest first, each with its cursor." })
  edges!: DefenderUserRiskEdge[];

  @Field(() => DateTimeScalar, {
    description: "When the alert listing this page comes from was read from Defender (the answer is as of then).",
  })
  listedAt!: Date;

  @Field(() => Boolean, {
    description:
      "Whether the listing holds the whole window. False when the window outgrew what one listing reads (5 pages of 10,000 alerts): the ranking then covers the alerts listed (the most recently updated).",
  })
  complete!: boolean;
}

export function toUserRisk(row: RiskRow): DefenderUserRisk {
  return Object.assign(new DefenderUserRisk(), {
    id: row.id,
    accountName: row.user.userName ?? row.id,
    accountDomain: row.user.domainName,
    highestSeverity: row.highestSeverity,
    alertCount: row.alertCount,
    openAlertCount: row.openAlertCount,
    lastAlertTime: row.lastAlertTime === null ? null : new Date(row.lastAlertTime),
    row,
  });
}
