import type { PricedPart } from "../limits/price-book";

/**
 * What one part of the graph brings: its type-graphql resolvers (their types follow) and the prices of the
 * fields they resolve. A source registers one (src/sources/<vendor>/register.ts, listed in
 * src/sources/index.ts); the cross-vendor features another (src/people/register.ts).
 */
export interface GraphPart extends PricedPart {
  name: string;
  // type-graphql's own type for resolver classes.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  resolvers: readonly Function[];
}
