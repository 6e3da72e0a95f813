import { Field, ObjectType } from "type-graphql";
import { PageInfo } from "../../../graphql/page-info.type";
import { DefenderAlert } from "./alert.type";

@ObjectType({ description: "One Defender alert in a list, with the cursor that continues the list after it." })
export class DefenderAlertEdge {
  @Field(() => String, { description: "Pass as after: to continue after this alert (with the same filter). Opaque." })
  cursor!: string;

  @Field(() => DefenderAlert, { description: "The alert." })
  node!: DefenderAlert;
}

@ObjectType({ description: "A page of Defender alerts (GET /api/alerts with $filter, $top and $skip), Relay-style." })
export class DefenderAlertConnection {
  @Field(() => [DefenderAlertEdge], { description: "The alerts of this page, in Defender's order, each with its cursor." })
  edges!: DefenderAlertEdge[];

  @Field(() => PageInfo, { description: "Whether more alerts follow, and the cursors to continue from." })
  pageInfo!: PageInfo;
}
