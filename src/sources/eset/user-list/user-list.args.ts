import { IsInt, IsOptional, Length, Matches, Max, Min, ValidateNested } from "class-validator";
import { ArgsType, Field, Int } from "type-graphql";
import { EsetUserFilter } from "./user-filter.input";

/** ESET's page size: `first` maps onto one vendor page (and never onto more than two calls). */
export const ESET_LIST_MAX_FIRST = 1000;
export const ESET_LIST_DEFAULT_FIRST = 50;
/** A cursor is a signed base64url payload: a vendor page token (≤ 128 characters) and two small fields. */
const CURSOR_MAX_LENGTH = 512;

@ArgsType()
export class EsetUserListArgs {
  @Field(() => EsetUserFilter, { nullable: true, description: "Which users; all of them when absent." })
  @IsOptional()
  @ValidateNested()
  filter?: EsetUserFilter | null;

  @Field(() => Int, {
    nullable: true,
    defaultValue: ESET_LIST_DEFAULT_FIRST,
    description: `How many users to return, 0 to ${ESET_LIST_MAX_FIRST} (ESET's largest page). 0 returns no edges but still totalCount and pageInfo.hasNextPage, for one small vendor call.`,
  })
  @IsOptional()
  @IsInt({ message: `a whole number from 0 to ${ESET_LIST_MAX_FIRST}` })
  @Min(0, { message: `a whole number from 0 to ${ESET_LIST_MAX_FIRST}` })
  @Max(ESET_LIST_MAX_FIRST, { message: `at most ${ESET_LIST_MAX_FIRST} (ESET's largest page); page with after: instead` })
  first?: number | null;

  @Field(() => String, {
    nullable: true,
    description:
      "Continue after this cursor (an edge's cursor or pageInfo.endCursor from a query with the same filter). Cursors are opaque, carry everything needed to resume (they work after a restart and on any replica), and are refused with another filter.",
  })
  @IsOptional()
  @Length(1, CURSOR_MAX_LENGTH, { message: "not a cursor usergraph issued; start again without after" })
  @Matches(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, { message: "not a cursor usergraph issued; start again without after" })
  after?: string | null;
}
