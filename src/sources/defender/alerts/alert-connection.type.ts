import { Field, Int, ObjectType } from "type-graphql";
import { FacetCount } from "../../../graphql/facet-count.type";
import { PageInfo } from "../../../graphql/page-info.type";
import { DateTimeScalar } from "../../../graphql/scalars";
import { DefenderAlert } from "./alert.type";

@ObjectType({ description: "One Defender alert in a list, with the cursor that continues the list after it." })
export class DefenderAlertEdge {
  @Field(() => String, { description: "Pass as after: to continue after this alert (with the same filter). Opaque." })
  cursor!: string;

  @Field(() => DefenderAlert, { description: "The alert." })
  node!: DefenderAlert;
}

@ObjectType({ description: "Counts of the filtered alerts (all of them, not only the page) per value of a property." })
export class DefenderAlertFacets {
  @Field(() => [FacetCount], { description: "Per severity (an AlertSeverity name), most frequent first." })
  severity!: FacetCount[];

  @Field(() => [FacetCount], { description: "Per status (an AlertStatus name), most frequent first." })
  status!: FacetCount[];

  @Field(() => [FacetCount], { description: 'Per category as Defender writes it ("UNSPECIFIED": none), most frequent first.' })
  category!: FacetCount[];

  @Field(() => [FacetCount], { description: 'Per detection source as Defender writes it ("UNSPECIFIED": none), most frequent first.' })
  detectionSource!: FacetCount[];
}

@ObjectType({ description: "A page of Defender alerts (GET /api/alerts with $filter, $top and $skip), Relay-style." })
export class DefenderAlertConnection {
  @Field(() => [DefenderAlertEdge], { description: "The alerts of this page, in Defender's order, each with its cursor." })
  edges!: DefenderAlertEdge[];

  @Field(() => PageInfo, { description: "Whether more alerts follow, and the cursors to continue from." })
  pageInfo!: PageInfo;

  @Field(() => Int, {
    nullable: true,
    description:
      "How many alerts match the filter (all pages). Defender gives no count: selecting it (or facets) reads the whole set once, which then also serves this page: with createdSince or updatedSince, the alert window of that hour that defenderUsersAtRisk and peopleAtRisk read (GET /api/alerts?$filter=lastUpdateTime ge …&$top=10000&$expand=evidence, kept and refreshed by delta); otherwise the filtered set (GET /api/alerts?$filter=…&$top=10000), its counts kept for the Defender cache TTL. At most 5 pages either way. Null when the set holds more than 50,000 alerts.",
  })
  totalCount?: number | null;

  @Field(() => DefenderAlertFacets, {
    nullable: true,
    description: "Counts per severity, status, category and detection source over the whole filtered set; read like totalCount.",
  })
  facets?: DefenderAlertFacets | null;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: "When the listing that totalCount and facets come from was read from Defender (selecting it reads them like totalCount).",
  })
  countedAt?: Date | null;
}
