import { ArrayMaxSize, IsDate, IsEnum, IsInt, IsOptional, Max, Min } from "class-validator";
import { ArgsType, Field, Int } from "type-graphql";
import { DateTimeScalar } from "../../../graphql/scalars";
import { RELATION_DEFAULT_FIRST, RELATION_MAX_FIRST } from "../machines/machine.args";
import { AlertSeverity, AlertStatus } from "./alert.enums";

const FIRST_MESSAGE = `a whole number from 0 to ${RELATION_MAX_FIRST}`;

@ArgsType()
export class RelatedAlertsArgs {
  @Field(() => DateTimeScalar, {
    nullable: true,
    description:
      "Only alerts last updated at or after this time (lastUpdateTime). Give it: a window lets many users' alerts come from one alert-list call; without it every alert of the tenant is in scope.",
  })
  @IsOptional()
  @IsDate({ message: "a date-time" })
  since?: Date | null;

  @Field(() => Int, {
    nullable: true,
    defaultValue: RELATION_DEFAULT_FIRST,
    description: `At most this many alerts, most recently updated first; 0 to ${RELATION_MAX_FIRST}.`,
  })
  @IsOptional()
  @IsInt({ message: FIRST_MESSAGE })
  @Min(0, { message: FIRST_MESSAGE })
  @Max(RELATION_MAX_FIRST, { message: FIRST_MESSAGE })
  first?: number | null;

  @Field(() => [AlertStatus], {
    nullable: true,
    description: "Only alerts with one of these statuses (e.g. [NEW, IN_PROGRESS]: the open ones); all when absent or empty.",
  })
  @IsOptional()
  @ArrayMaxSize(5)
  status?: AlertStatus[] | null;

  @Field(() => AlertSeverity, {
    nullable: true,
    description: "Only alerts of this severity or higher (INFORMATIONAL < LOW < MEDIUM < HIGH).",
  })
  @IsOptional()
  @IsEnum(AlertSeverity)
  minSeverity?: AlertSeverity | null;

  static isPlainlyValid(args: RelatedAlertsArgs): boolean {
    const first = args.first;
    const since = args.since;
    // With status or minSeverity given, class-validator decides: the quick check only knows the plain case.
    if ((args.status !== undefined && args.status !== null) || (args.minSeverity !== undefined && args.minSeverity !== null)) return false;
    return (
      (first === undefined || first === null || (Number.isInteger(first) && first >= 0 && first <= RELATION_MAX_FIRST)) &&
      (since === undefined || since === null || (since instanceof Date && !Number.isNaN(since.getTime())))
    );
  }
}
