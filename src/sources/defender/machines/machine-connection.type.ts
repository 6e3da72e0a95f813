import { Field, Int, ObjectType } from "type-graphql";
import { FacetCount } from "../../../graphql/facet-count.type";
import { PageInfo } from "../../../graphql/page-info.type";
import { DateTimeScalar } from "../../../graphql/scalars";
import { DefenderMachine } from "./machine.type";

@ObjectType({ description: "One Defender machine in a list, with the cursor that continues the list after it." })
export class DefenderMachineEdge {
  @Field(() => String, { description: "Pass as after: to continue after this machine (with the same filter and order). Opaque." })
  cursor!: string;

  @Field(() => DefenderMachine, { description: "The machine." })
  node!: DefenderMachine;
}

@ObjectType({ description: "Counts of the filtered machines (all of them, not only the page) per value of a property." })
export class DefenderMachineFacets {
  @Field(() => [FacetCount], { description: "Per risk score (a MachineRiskScore name), most frequent first." })
  riskScore!: FacetCount[];

  @Field(() => [FacetCount], { description: "Per exposure level (a MachineExposureLevel name), most frequent first." })
  exposureLevel!: FacetCount[];

  @Field(() => [FacetCount], { description: "Per sensor health status (a MachineHealthStatus name), most frequent first." })
  healthStatus!: FacetCount[];

  @Field(() => [FacetCount], { description: 'Per OS platform as Defender writes it ("UNSPECIFIED": none), most frequent first.' })
  osPlatform!: FacetCount[];
}

@ObjectType({
  description: "A page of the Defender fleet (GET /api/machines, listed once and kept), filtered and ordered by usergraph, Relay-style.",
})
export class DefenderMachineConnection {
  @Field(() => Int, { description: "How many machines match the filter (all pages)." })
  totalCount!: number;

  @Field(() => PageInfo, { description: "Whether more machines follow, and the cursors to continue from." })
  pageInfo!: PageInfo;

  @Field(() => [DefenderMachineEdge], { description: "The machines of this page, in the order asked, each with its cursor." })
  edges!: DefenderMachineEdge[];

  @Field(() => DefenderMachineFacets, { description: "Counts per risk score, exposure, health and OS over the whole filtered set." })
  facets!: DefenderMachineFacets;

  @Field(() => DateTimeScalar, {
    description: "When the fleet listing this page comes from was read from Defender (the answer is as of then).",
  })
  listedAt!: Date;

  @Field(() => Boolean, {
    description:
      "Whether the listing holds the whole fleet. False when the fleet outgrew what one listing reads (10 pages of 10,000 machines): the counts and pages then cover the machines listed.",
  })
  complete!: boolean;
}
