import { GraphQLError } from "graphql";
import type { Context } from "../context";
import { ErrorCode } from "../errors/error-code";
import type { EntityReference, GraphPart } from "../graphql/graph-part";

/** One `_entities` representation as the router sends it: `__typename` plus the key fields. */
export type Representation = Readonly<Record<string, unknown>>;

/** Every entity the parts declare, by type name; two parts declaring one entity is a programming error. */
export function entitiesOf(parts: readonly GraphPart[]): ReadonlyMap<string, EntityReference> {
  const entities = new Map<string, EntityReference>();
  for (const part of parts) {
    for (const [typename, reference] of Object.entries(part.entities ?? {})) {
      if (entities.has(typename)) throw new Error(`the entity ${typename} is declared by two parts of the graph`);
      entities.set(typename, reference);
    }
  }
  return entities;
}

/**
 * Every representation of one `_entities` call checked before any is looked up: an object whose
 * `__typename` is a string naming one of this subgraph's entities. Anything else means the caller (or its
 * router) speaks another schema, so the whole call is refused, naming each bad entry but never echoing it,
 * and no lookup starts. @apollo/subgraph would throw on such an entry mid-list, after the entries before it
 * had started their vendor calls, and answer INTERNAL_SERVER_ERROR. A bad key still fails only its own entry
 * (keyOf, in `__resolveReference`), before its lookup.
 */
export function assertRepresentations(entities: ReadonlyMap<string, EntityReference>, representations: readonly unknown[]): void {
  const problems: Array<{ argument: string; problems: string[] }> = [];
  representations.forEach((ref, i) => {
    const problem = representationProblem(entities, ref);
    if (problem !== undefined) problems.push({ argument: `representations[${i}]`, problems: [problem] });
  });
  if (problems.length === 0) return;
  const shown = problems.slice(0, 3).map((p) => `${p.argument}: ${p.problems[0]}`);
  if (problems.length > 3) shown.push(`and ${problems.length - 3} more`);
  throw new GraphQLError(
    `Invalid entity representations: ${shown.join("; ")}. Each is an object whose __typename is ${[...entities.keys()].join(" or ")}; no entity was looked up.`,
    { extensions: { code: ErrorCode.BAD_USER_INPUT, validationErrors: problems.slice(0, 100), http: { status: 400 } } },
  );
}

function representationProblem(entities: ReadonlyMap<string, EntityReference>, ref: unknown): string | undefined {
  if (typeof ref !== "object" || ref === null || Array.isArray(ref)) return "not an object";
  const typename = (ref as Record<string, unknown>).__typename;
  if (typename === undefined) return "__typename is missing";
  if (typeof typename !== "string") return "__typename is not a string";
  if (!entities.has(typename)) return "__typename names no entity of this subgraph";
  return undefined;
}

/**
 * The same gate as the `id`/`uuid` arguments, and the same error shape as argument validation
 * (`extensions.validationErrors`), never echoing the value: a representation is caller input like any
 * argument.
 */
function keyOf(typename: string, { key, isValid, message }: EntityReference, ref: Representation): string {
  const value = ref[key];
  if (!isValid(value)) {
    throw new GraphQLError(`Invalid entity representation: ${typename}.${key}: ${message}`, {
      extensions: { code: ErrorCode.BAD_USER_INPUT, validationErrors: [{ argument: `${typename}.${key}`, problems: [message] }] },
    });
  }
  return value as string;
}

/**
 * `__resolveReference` for each entity: the router's `_entities` lookups take the path of the entity's root
 * field (`defenderUser(id:)`, say) — the part's scopes (subgraph-schema.ts puts guardReference in front of
 * these), key validation, the request's loader (so every representation of one `_entities` call lands in
 * one DataLoader batch, behind the same cache, single-flight and rate limits), the same mapper — and
 * `null` for an id the vendor does not know. The part that declares the entity says how (`entities`).
 *
 * Async on purpose: @apollo/subgraph calls these inside one `representations.map`, so a synchronous throw
 * would fail the whole `_entities` list; a rejection fails only its own entry (path `_entities.<i>`), like
 * an entry of a list argument. The loads still start synchronously, in the same tick, so they batch.
 */
export function referenceResolvers(
  entities: ReadonlyMap<string, EntityReference>,
): Record<string, { __resolveReference(ref: Representation, ctx: Context): Promise<unknown> }> {
  const resolvers: Record<string, { __resolveReference(ref: Representation, ctx: Context): Promise<unknown> }> = {};
  for (const [typename, reference] of entities) {
    resolvers[typename] = {
      async __resolveReference(ref, ctx) {
        return reference.resolve(keyOf(typename, reference, ref), ctx);
      },
    };
  }
  return resolvers;
}
