import { Field, ID, ObjectType } from "type-graphql";
import { DateTimeScalar } from "../../../graphql/scalars";
import { MachineExposureLevel, MachineHealthStatus, MachineRiskScore } from "./machine.enums";

@ObjectType({ description: "One IP address of a machine's network adapter (Defender IpAddress)." })
export class MachineIpAddress {
  @Field(() => String, { nullable: true, description: 'The address, IPv4 or IPv6, e.g. "10.20.4.17".' })
  ipAddress!: string | null;

  @Field(() => String, { nullable: true, description: 'The adapter\'s MAC address as Defender writes it, e.g. "8CEC4B897E73".' })
  macAddress!: string | null;

  @Field(() => String, { nullable: true, description: 'The adapter\'s operational status, e.g. "Up".' })
  operationalStatus!: string | null;
}

@ObjectType({
  description:
    "A device onboarded to Microsoft Defender for Endpoint (the MDE `machine` entity: GET /api/machines/{id}). Needs the Defender permission Machine.Read.All.",
})
export class DefenderMachine {
  @Field(() => ID, { description: "The device id (40 hex digits)." })
  id!: string;

  @Field(() => String, { nullable: true, description: "Fully qualified computer name, e.g. alice-laptop.contoso.com." })
  computerDnsName!: string | null;

  @Field(() => String, { nullable: true, description: 'Operating system platform, e.g. "Windows11", "WindowsServer2022", "Linux".' })
  osPlatform!: string | null;

  @Field(() => String, { nullable: true, description: 'Operating system version (Defender `version`), e.g. "23H2".' })
  osVersion!: string | null;

  @Field(() => String, { nullable: true, description: "Operating system build number: an int64 as an exact decimal string." })
  osBuild!: string | null;

  @Field(() => String, { nullable: true, description: 'Operating system architecture, "32-bit" or "64-bit".' })
  osArchitecture!: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: "When Defender first observed the machine (UTC)." })
  firstSeen!: Date | null;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: "When Defender last received a full device report (about every 24 hours); not the portal's last seen.",
  })
  lastSeen!: Date | null;

  @Field(() => String, { nullable: true, description: "Last IP address on a local network adapter." })
  lastIpAddress!: string | null;

  @Field(() => String, { nullable: true, description: "Last IP address through which the machine reached the internet." })
  lastExternalIpAddress!: string | null;

  @Field(() => MachineHealthStatus, { description: "Status of the machine's sensor." })
  healthStatus!: MachineHealthStatus;

  @Field(() => MachineRiskScore, { description: "Risk score evaluated by Defender." })
  riskScore!: MachineRiskScore;

  @Field(() => MachineExposureLevel, { description: "Exposure level evaluated by Defender." })
  exposureLevel!: MachineExposureLevel;

  @Field(() => String, { nullable: true, description: 'The device value set in Defender: "Normal", "Low" or "High".' })
  deviceValue!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Onboarding status: "onboarded", "CanBeOnboarded", "Unsupported" or "InsufficientInfo" (as Defender writes it).',
  })
  onboardingStatus!: string | null;

  @Field(() => String, { nullable: true, description: "Id of the device group (Defender sends a number or a string)." })
  rbacGroupId!: string | null;

  @Field(() => String, { nullable: true, description: "Name of the device group." })
  rbacGroupName!: string | null;

  @Field(() => String, { nullable: true, description: "Microsoft Entra device id, when the machine is Entra joined." })
  aadDeviceId!: string | null;

  @Field(() => Boolean, { nullable: true, description: "Whether the machine is Entra joined (only in Defender's examples)." })
  isAadJoined!: boolean | null;

  @Field(() => [String], { description: "Tags set on the machine." })
  machineTags!: string[];

  @Field(() => [MachineIpAddress], { description: "IP addresses of the machine's adapters." })
  ipAddresses!: MachineIpAddress[];
}
