import { ArrayMaxSize, IsBoolean, IsEnum, IsOptional } from "class-validator";
import { ArgsType, Field } from "type-graphql";
import { AlertSeverity } from "../sources/defender/alerts/alert.enums";
import { RiskWindowArgs } from "../sources/defender/risk/users-at-risk.args";
import { ProtectionStatus } from "../sources/eset/enums";

@ArgsType()
export class PeopleAtRiskArgs extends RiskWindowArgs {
  @Field(() => AlertSeverity, {
    nullable: true,
    defaultValue: AlertSeverity.MEDIUM,
    description: "Only alerts of this severity or higher count (INFORMATIONAL < LOW < MEDIUM < HIGH).",
  })
  @IsOptional()
  @IsEnum(AlertSeverity)
  minSeverity?: AlertSeverity | null;

  @Field(() => [ProtectionStatus], {
    nullable: true,
    description:
      "Only people whose weakest ESET protection is one of these (e.g. [UNPROTECTED, PENDING]); people without an ESET user have none and are left out. All when absent or empty.",
  })
  @IsOptional()
  @ArrayMaxSize(5)
  @IsEnum(ProtectionStatus, { each: true })
  esetProtection?: ProtectionStatus[] | null;

  @Field(() => Boolean, {
    nullable: true,
    description: "true: only people with no linked ESET user (the coverage gap); false: only people with one; absent: both.",
  })
  @IsOptional()
  @IsBoolean()
  withoutEsetUser?: boolean | null;
}
