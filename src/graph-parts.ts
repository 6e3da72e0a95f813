import type { GraphPart } from "./graphql/graph-part";
import { priceBook, type PriceBook } from "./limits/price-book";
import { peoplePart } from "./people/register";
import { SOURCE_PARTS } from "./sources";

/** Every part of the graph: the registered sources, then the cross-vendor features. */
export const GRAPH_PARTS: readonly GraphPart[] = [...SOURCE_PARTS, peoplePart];

/** The federation subgraph's `_service { sdl }` reads the schema, never a vendor. */
const FEDERATION_FREE = { prices: {}, freeFields: ["Query._service"] };

/** The prices of every field, for the operation cost plugin (src/limits/operation-limits.ts). */
export const PRICE_BOOK: PriceBook = priceBook([...GRAPH_PARTS, FEDERATION_FREE]);
