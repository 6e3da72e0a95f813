import { Directive, Field, ID, Int, ObjectType } from "type-graphql";
import { DateTimeScalar } from "../../../graphql/scalars";

// The federation entity key (used only in subgraph mode; graphql-js's printSchema leaves it out of schema/schema.graphql).
@Directive('@key(fields: "id")')
@ObjectType({
  description:
    "A user account seen by Microsoft Defender for Endpoint on onboarded devices (the MDE `user` entity, read with GET /api/users/{id}).",
})
export class DefenderUser {
  @Field(() => ID, {
    description:
      'The key: the user name Defender knows the account by, either bare ("user1") or as "domain\\user" ("contoso\\user1"). Not the full UPN.',
  })
  id!: string;

  @Field(() => String, { nullable: true, description: 'Account name without the domain, e.g. "user1".' })
  accountName!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Account domain, e.g. "contoso". Also read from the older wire name accountDomainName.',
  })
  accountDomain!: string | null;

  @Field(() => String, { nullable: true, description: "Windows security identifier (SID) of the account." })
  accountSid!: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: "When Defender first saw the account on a device (UTC)." })
  firstSeen!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: "When Defender last saw the account on a device (UTC)." })
  lastSeen!: Date | null;

  // ID, not String (issue 22): it is a DefenderMachine.id, what defenderMachine(id: ID!) takes. Same wire value.
  @Field(() => ID, {
    nullable: true,
    description: "The most prevalent machine id (a DefenderMachine.id): the device the account logs on to most.",
  })
  mostPrevalentMachineId!: string | null;

  @Field(() => ID, {
    nullable: true,
    description: "The least prevalent machine id (a DefenderMachine.id): the device the account logs on to least.",
  })
  leastPrevalentMachineId!: string | null;

  @Field(() => [String], {
    description:
      'Logon types seen for the account (Windows logon types such as "Network", "Interactive", "RemoteInteractive"). Defender sends one comma-separated string; this is that string split. Not a closed set.',
  })
  logonTypes!: string[];

  @Field(() => Int, { nullable: true, description: "Number of devices the account has logged on to." })
  logOnMachinesCount!: number | null;

  @Field(() => Boolean, { nullable: true, description: "Whether the account is a domain administrator." })
  isDomainAdmin!: boolean | null;

  @Field(() => Boolean, { nullable: true, description: "Whether the account only ever logs on over the network." })
  isOnlyNetworkUser!: boolean | null;
}
