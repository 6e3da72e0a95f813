import type { SourceAccess } from "../auth/assert-scope";
import type { Context } from "../context";
import type { MaybePromise } from "./maybe-promise";
import type { PricedPart } from "../limits/price-book";
import type { SourceName } from "../upstream/source";

/**
 * What one part of the graph brings: its type-graphql resolvers (their types follow), the sources its
 * fields read, and the prices of the fields they resolve. A source registers one
 * (src/sources/<vendor>/register.ts, listed in src/sources/index.ts); the cross-vendor features another
 * (src/people/register.ts).
 */
export interface GraphPart extends PricedPart {
  name: string;
  // type-graphql's own type for resolver classes.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  resolvers: readonly Function[];
  /**
   * The sources this part's fields read. No field its resolvers declare can be reached without the scope
   * of each of them: the core checks it before the resolver runs (src/auth/part-scopes.ts), so a resolver
   * makes no scope call of its own, and one added to `resolvers` is protected by being added.
   */
  reads: readonly SourceName[];
  /** Fields (`Type.field`) that read less than the whole part; every other field of the part needs all of `reads`. */
  fieldReads?: Readonly<Record<string, SourceAccess>>;
  /**
   * Federation: the entities this part answers `_entities` lookups for, by type name (src/federation/).
   * Each lookup needs the part's scopes, like its fields.
   */
  entities?: Readonly<Record<string, EntityReference>>;
}

/** How the federation subgraph looks one entity up from a router's representation. */
export interface EntityReference {
  /** The key field of the representation (`@key(fields: …)`). */
  key: string;
  /** The same rule as the key's argument on the root field; `message` says it when a key breaks it. */
  isValid: (value: unknown) => boolean;
  message: string;
  /** The entity for a valid key, through the request's loaders (so one `_entities` call batches), or null. */
  resolve: (key: string, ctx: Context) => MaybePromise<unknown>;
}
