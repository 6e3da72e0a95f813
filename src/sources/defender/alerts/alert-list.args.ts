import { IsInt, IsOptional, Length, Matches, Max, Min, ValidateNested } from "class-validator";
import { ArgsType, Field, Int } from "type-graphql";
import { DefenderAlertFilter } from "./alert-filter.input";

/** Most alerts one page returns: one Defender call a page whatever its size (Defender's own limit is 10,000). */
export const DEFENDER_ALERTS_MAX_FIRST = 1000;
export const DEFENDER_ALERTS_DEFAULT_FIRST = 50;
const CURSOR_MAX_LENGTH = 256;
const FIRST_MESSAGE = `a whole number from 0 to ${DEFENDER_ALERTS_MAX_FIRST}`;

@ArgsType()
export class DefenderAlertsArgs {
  @Field(() => DefenderAlertFilter, { nullable: true, description: "Which alerts; all of them when absent." })
  @IsOptional()
  @ValidateNested()
  filter?: DefenderAlertFilter | null;

  @Field(() => Int, {
    nullable: true,
    defaultValue: DEFENDER_ALERTS_DEFAULT_FIRST,
    description: `How many alerts, 0 to ${DEFENDER_ALERTS_MAX_FIRST}: one Defender call per page.`,
  })
  @IsOptional()
  @IsInt({ message: FIRST_MESSAGE })
  @Min(0, { message: FIRST_MESSAGE })
  @Max(DEFENDER_ALERTS_MAX_FIRST, { message: `at most ${DEFENDER_ALERTS_MAX_FIRST}; page with after: instead` })
  first?: number | null;

  @Field(() => String, {
    nullable: true,
    description:
      "Continue after this cursor (an edge's cursor or pageInfo.endCursor of a query with the same filter). Opaque; refused with another filter.",
  })
  @IsOptional()
  @Length(1, CURSOR_MAX_LENGTH, { message: "not a cursor usergraph issued; start again without after" })
  @Matches(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, { message: "not a cursor usergraph issued; start again without after" })
  after?: string | null;
}
