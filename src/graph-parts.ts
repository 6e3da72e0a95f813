import type { GraphPart } from "./graphql/graph-part";
import { priceBook, type PriceBook } from "./limits/price-book";
import { peoplePart } from "./people/register";
import { sources } from "./sources";

/** Every part of the graph: the registered sources, then the cross-vendor features. */
export function graphParts(): readonly GraphPart[] {
  return [...sources().map((s) => s.part), peoplePart];
}

/** The federation subgraph's `_service { sdl }` reads the schema, never a vendor. */
const FEDERATION_FREE = { prices: {}, freeFields: ["Query._service"] };

/** The prices of every field of these parts, for the operation cost plugin (src/limits/operation-limits.ts). */
export function priceBookOf(parts: readonly GraphPart[] = graphParts()): PriceBook {
  return priceBook([...parts, FEDERATION_FREE]);
}
