import { IsInt, IsOptional, Length, Matches, Max, Min, ValidateNested } from "class-validator";
import { ArgsType, Field, Int } from "type-graphql";
import { DEFENDER_ALERTS_MAX_FIRST } from "../alerts/alert-list.args";
import { DefenderMachineFilter, DefenderMachineOrder } from "./machine-filter.input";

/** Most machines one page returns: the same bound as a defenderAlerts page (a page costs no call, but its selection is priced per machine). */
export const DEFENDER_MACHINES_MAX_FIRST = DEFENDER_ALERTS_MAX_FIRST;
export const DEFENDER_MACHINES_DEFAULT_FIRST = 50;
const CURSOR_MAX_LENGTH = 512;
const FIRST_MESSAGE = `a whole number from 1 to ${DEFENDER_MACHINES_MAX_FIRST}`;
const CURSOR_MESSAGE = "not a cursor usergraph issued; start again without after";

@ArgsType()
export class DefenderMachinesArgs {
  @Field(() => DefenderMachineFilter, { nullable: true, description: "Which machines; the whole fleet when absent." })
  @IsOptional()
  @ValidateNested()
  filter?: DefenderMachineFilter | null;

  @Field(() => DefenderMachineOrder, { nullable: true, description: "The order; highest risk score first when absent." })
  @IsOptional()
  @ValidateNested()
  orderBy?: DefenderMachineOrder | null;

  @Field(() => Int, {
    nullable: true,
    defaultValue: DEFENDER_MACHINES_DEFAULT_FIRST,
    description: `How many machines, 1 to ${DEFENDER_MACHINES_MAX_FIRST}.`,
  })
  @IsOptional()
  @IsInt({ message: FIRST_MESSAGE })
  @Min(1, { message: FIRST_MESSAGE })
  @Max(DEFENDER_MACHINES_MAX_FIRST, { message: `at most ${DEFENDER_MACHINES_MAX_FIRST}; page with after: instead` })
  first?: number | null;

  @Field(() => String, {
    nullable: true,
    description:
      "Continue after this cursor (an edge's cursor or pageInfo.endCursor of a query with the same filter and order). Opaque; refused with another filter or order.",
  })
  @IsOptional()
  @Length(1, CURSOR_MAX_LENGTH, { message: CURSOR_MESSAGE })
  @Matches(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, { message: CURSOR_MESSAGE })
  after?: string | null;
}
