import { Field, ObjectType } from "type-graphql";

@ObjectType({ description: "Where a page of a Relay-style connection stands (forward paging with first/after)." })
export class PageInfo {
  @Field(() => Boolean, { description: "More items follow the last edge: ask again with after: endCursor." })
  hasNextPage!: boolean;

  @Field(() => Boolean, { description: "Items come before the first edge: true exactly when the page was asked with after." })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true, description: "The first edge's cursor; null on an empty page." })
  startCursor!: string | null;

  @Field(() => String, {
    nullable: true,
    description: "The last edge's cursor, to pass as after for the next page; null on an empty page.",
  })
  endCursor!: string | null;
}
