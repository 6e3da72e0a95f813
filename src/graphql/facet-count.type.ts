import { Field, Int, ObjectType } from "type-graphql";

@ObjectType({ description: "How many items of a filtered set have one value of a property (one bucket of a facet)." })
export class FacetCount {
  @Field(() => String, { description: "The value: an enum value's name (e.g. \"HIGH\"), or the vendor's text for a text property." })
  value!: string;

  @Field(() => Int, { description: "How many items of the whole filtered set (not only the page) have it." })
  count!: number;
}

/** Counts per value, most frequent first, then by value: only values that occur. */
export function facetOf<T>(items: readonly T[], valueOf: (item: T) => string): FacetCount[] {
  const counts = new Map<string, number>();
  for (const item of items) {
    const v = valueOf(item);
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return [...counts]
    .map(([value, count]) => ({ value, count }))
    .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
}
