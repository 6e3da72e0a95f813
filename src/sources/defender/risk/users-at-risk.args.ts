import { ArrayMaxSize, IsDate, IsEnum, IsInt, IsOptional, Length, Matches, Max, Min } from "class-validator";
import { ArgsType, Field, Int } from "type-graphql";
import { DateTimeScalar } from "../../../graphql/scalars";
import { AlertSeverity, AlertStatus } from "../alerts/alert.enums";

/** Most accounts one page returns: the listing costs the same whatever the page, the selection is priced per account. */
export const RISK_MAX_FIRST = 1000;
export const RISK_DEFAULT_FIRST = 50;
const FIRST_MESSAGE = `a whole number from 0 to ${RISK_MAX_FIRST}`;
const CURSOR_MESSAGE = "not a cursor usergraph issued; start again without after";

/** The arguments both at-risk lists share (defenderUsersAtRisk, peopleAtRisk), each list with its own defaults. */
@ArgsType()
export class RiskWindowArgs {
  @Field(() => DateTimeScalar, {
    description:
      "Only alerts last updated at or after this time (lastUpdateTime). The listing starts at the hour before it, so dashboards asking a few minutes apart share it.",
  })
  @IsDate({ message: "a date-time" })
  since!: Date;

  @Field(() => Int, { nullable: true, defaultValue: RISK_DEFAULT_FIRST, description: `How many accounts, 0 to ${RISK_MAX_FIRST}.` })
  @IsOptional()
  @IsInt({ message: FIRST_MESSAGE })
  @Min(0, { message: FIRST_MESSAGE })
  @Max(RISK_MAX_FIRST, { message: `at most ${RISK_MAX_FIRST}; page with after: instead` })
  first?: number | null;

  @Field(() => String, {
    nullable: true,
    description:
      "Continue after this cursor (an edge's cursor or pageInfo.endCursor of a query with the same arguments). Opaque; refused with other arguments.",
  })
  @IsOptional()
  @Length(1, 512, { message: CURSOR_MESSAGE })
  @Matches(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, { message: CURSOR_MESSAGE })
  after?: string | null;
}

@ArgsType()
export class UsersAtRiskArgs extends RiskWindowArgs {
  @Field(() => AlertSeverity, {
    nullable: true,
    defaultValue: AlertSeverity.LOW,
    description: "Only alerts of this severity or higher count (INFORMATIONAL < LOW < MEDIUM < HIGH).",
  })
  @IsOptional()
  @IsEnum(AlertSeverity)
  minSeverity?: AlertSeverity | null;

  @Field(() => [AlertStatus], {
    nullable: true,
    description: "Only alerts with one of these statuses count (e.g. [NEW, IN_PROGRESS]); all when absent or empty.",
  })
  @IsOptional()
  @ArrayMaxSize(5)
  @IsEnum(AlertStatus, { each: true })
  status?: AlertStatus[] | null;
}
