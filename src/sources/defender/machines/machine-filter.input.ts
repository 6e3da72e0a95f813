import { ArrayMaxSize, IsDate, IsEnum, IsOptional, Length, Matches } from "class-validator";
import { Field, InputType, registerEnumType } from "type-graphql";
import { OrderDirection } from "../../../graphql/order-direction";
import { DateTimeScalar } from "../../../graphql/scalars";
import { MachineExposureLevel, MachineHealthStatus, MachineRiskScore } from "./machine.enums";

// eslint-disable-next-line no-control-regex -- control characters are what it refuses
const TEXT = /^[^\u0000-\u001f\u007f-\u009f]*$/;
const TEXT_MESSAGE = "1 to 256 characters, without control characters";

/**
 * Which machines `defenderMachines` shows: every field given must hold. Applied by usergraph to the fleet
 * listing it keeps (one listing serves every filter), so any property can be filtered, not only the ones
 * Defender's OData accepts. Text compares without case; an empty list is no condition.
 */
@InputType({ description: "Which Defender machines to show; every field given must hold. Text compares without case." })
export class DefenderMachineFilter {
  @Field(() => [MachineRiskScore], { nullable: true, description: "Any of these risk scores (UNSPECIFIED: Defender sent none)." })
  @IsOptional()
  @ArrayMaxSize(6)
  riskScore?: MachineRiskScore[] | null;

  @Field(() => [MachineExposureLevel], { nullable: true, description: "Any of these exposure levels (UNSPECIFIED: Defender sent none)." })
  @IsOptional()
  @ArrayMaxSize(5)
  exposureLevel?: MachineExposureLevel[] | null;

  @Field(() => [MachineHealthStatus], { nullable: true, description: "Any of these sensor health statuses." })
  @IsOptional()
  @ArrayMaxSize(7)
  healthStatus?: MachineHealthStatus[] | null;

  @Field(() => String, { nullable: true, description: 'The OS platform, exactly but without case, e.g. "Windows11", "Linux".' })
  @IsOptional()
  @Length(1, 256, { message: TEXT_MESSAGE })
  @Matches(TEXT, { message: TEXT_MESSAGE })
  osPlatform?: string | null;

  @Field(() => String, { nullable: true, description: 'Part of the computer DNS name, without case, e.g. "laptop".' })
  @IsOptional()
  @Length(1, 256, { message: TEXT_MESSAGE })
  @Matches(TEXT, { message: TEXT_MESSAGE })
  nameContains?: string | null;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: "Last full device report at or after this time (lastSeen ≥); machines without one are left out.",
  })
  @IsOptional()
  @IsDate({ message: "a date-time" })
  lastSeenSince?: Date | null;

  @Field(() => String, { nullable: true, description: 'The device group, exactly but without case, e.g. "Contoso Servers".' })
  @IsOptional()
  @Length(1, 256, { message: TEXT_MESSAGE })
  @Matches(TEXT, { message: TEXT_MESSAGE })
  rbacGroupName?: string | null;

  @Field(() => String, { nullable: true, description: 'One of the machine\'s tags, exactly but without case, e.g. "VIP".' })
  @IsOptional()
  @Length(1, 256, { message: TEXT_MESSAGE })
  @Matches(TEXT, { message: TEXT_MESSAGE })
  tag?: string | null;
}

/** What `defenderMachines` orders by; the device id breaks ties, so the order is total. */
export enum DefenderMachineOrderField {
  RISK_SCORE = "RISK_SCORE",
  EXPOSURE_LEVEL = "EXPOSURE_LEVEL",
  LAST_SEEN = "LAST_SEEN",
  COMPUTER_DNS_NAME = "COMPUTER_DNS_NAME",
}

registerEnumType(DefenderMachineOrderField, {
  name: "DefenderMachineOrderField",
  description: "What Defender machines are ordered by; the device id breaks ties. Machines without the value come last either way.",
  valuesConfig: {
    RISK_SCORE: { description: "Risk score: NONE < INFORMATIONAL < LOW < MEDIUM < HIGH." },
    EXPOSURE_LEVEL: { description: "Exposure level: NONE < LOW < MEDIUM < HIGH." },
    LAST_SEEN: { description: "Time of the last full device report." },
    COMPUTER_DNS_NAME: { description: "Computer DNS name, without case." },
  },
});

@InputType({ description: "How Defender machines are ordered." })
export class DefenderMachineOrder {
  @Field(() => DefenderMachineOrderField, { description: "What to order by." })
  @IsEnum(DefenderMachineOrderField)
  field!: DefenderMachineOrderField;

  @Field(() => OrderDirection, { nullable: true, defaultValue: OrderDirection.DESC, description: "Which way; highest first by default." })
  @IsOptional()
  @IsEnum(OrderDirection)
  direction?: OrderDirection | null;
}
