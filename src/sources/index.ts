import type { GraphPart } from "../graphql/graph-part";
import { defenderPart } from "./defender/register";
import { esetPart } from "./eset/register";

/**
 * The registered sources: adding a vendor is adding its folder and one line here (plus its client, store
 * and loader wiring in clients.ts, stores.ts and loaders.ts, and its settings in config.ts); no other
 * vendor's folder changes. docs/internals.md "Adding a source" lists the steps.
 */
export const SOURCE_PARTS: readonly GraphPart[] = [defenderPart, esetPart];
