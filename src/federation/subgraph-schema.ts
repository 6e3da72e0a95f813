import { buildSubgraphSchema, printSubgraphSchema } from "@apollo/subgraph";
import { printSchemaWithDirectives } from "@graphql-tools/utils";
import { GraphQLScalarType, isUnionType, lexicographicSortSchema, parse, type GraphQLSchema } from "graphql";
import { createResolversMap, type ResolverObject, type ResolversMap } from "type-graphql";
import { guardReference } from "../auth/part-scopes";
import type { GraphPart } from "../graphql/graph-part";
import { graphParts } from "../graph-parts";
import { buildAppSchema, SCHEMA_HEADER } from "../schema";
import { assertRepresentations, entitiesOf, referenceResolvers } from "./reference-resolvers";
import type { EntityReference } from "../graphql/graph-part";

/**
 * Federation 2 opt-in. v2.7 rather than the newest version the installed @apollo/subgraph knows: only
 * `@key` is used, and an older version composes with older routers and rover too.
 */
export const FEDERATION_LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])';

/** @apollo/subgraph's resolver map type (not exported by name from its entry point). */
type SubgraphResolvers = NonNullable<Extract<Parameters<typeof buildSubgraphSchema>[0], { resolvers?: unknown }>["resolvers"]>;

/** The root fields @apollo/subgraph adds: `_entities` is guarded per entity (guardReference), `_service` reads the schema, never a vendor. */
const FEDERATION_ROOT_FIELDS = new Set(["_entities", "_service"]);

/**
 * The schema served with FEDERATION_SUBGRAPH=1: the code-first schema (same resolvers, scalars, argument
 * validation and part scopes as standalone), printed with its `@key` directives, rebuilt by
 * @apollo/subgraph (which adds `_service` and `_entities`), with type-graphql's resolvers moved over and
 * the entities' reference resolvers added, each behind the scopes of the part that declares its entity.
 * Sorted like schema/schema.graphql, so `_service { sdl }` does not churn when code moves.
 */
export async function buildSubgraphAppSchema(parts: readonly GraphPart[] = graphParts()): Promise<GraphQLSchema> {
  const codeFirst = lexicographicSortSchema(await buildAppSchema(parts, { tenants: false }));
  const sdl = `${FEDERATION_LINK}\n\n${printSchemaWithDirectives(codeFirst)}`;
  const fromCode = createResolversMap(codeFirst);
  const resolvers: ResolversMap = { ...fromCode };
  const entities = entitiesOf(parts);
  const references = referenceResolvers(entities);
  for (const [typeName, { __resolveReference }] of Object.entries(references)) {
    resolvers[typeName] = {
      ...objectResolvers(fromCode, typeName),
      __resolveReference: guardReference(parts, typeName, __resolveReference),
    };
  }
  // Both types describe the same runtime shape (type name → field resolvers, scalar or enum values).
  const schema = buildSubgraphSchema({ typeDefs: parse(sdl), resolvers: resolvers as SubgraphResolvers });
  refuseUnguardedDoors(schema, codeFirst, references);
  checkRepresentationsFirst(schema, entities);
  return schema;
}

/**
 * Fail closed at start-up: without a reference resolver @apollo/subgraph answers the caller's own
 * representation as the entity, and a root field that is neither the code's nor a known federation field
 * has no part whose scopes it needs.
 */
function refuseUnguardedDoors(schema: GraphQLSchema, codeFirst: GraphQLSchema, references: Readonly<Record<string, unknown>>): void {
  const entities = schema.getType("_Entity");
  for (const type of entities && isUnionType(entities) ? entities.getTypes() : []) {
    if (!Object.hasOwn(references, type.name)) throw new Error(`the entity ${type.name} has no reference resolver`);
  }
  const codeRoot = codeFirst.getQueryType()!.getFields();
  for (const name of Object.keys(schema.getQueryType()!.getFields())) {
    if (!Object.hasOwn(codeRoot, name) && !FEDERATION_ROOT_FIELDS.has(name))
      throw new Error(`the root field ${name} belongs to no part of the graph`);
  }
}

/** `_entities` checks every representation (assertRepresentations) before @apollo/subgraph's resolver starts any lookup. */
function checkRepresentationsFirst(schema: GraphQLSchema, entities: ReadonlyMap<string, EntityReference>): void {
  const field = schema.getQueryType()?.getFields()._entities;
  const resolve = field?.resolve;
  if (!field || !resolve) throw new Error("the subgraph schema has no _entities resolver to guard");
  field.resolve = (source, args: { representations: readonly unknown[] }, context, info) => {
    assertRepresentations(entities, args.representations);
    return resolve(source, args, context, info);
  };
}

/** The field resolvers type-graphql made for one object type (none, for plain data fields). */
function objectResolvers(map: ResolversMap, typeName: string): ResolverObject {
  const entry = map[typeName];
  if (entry === undefined) return {};
  if (entry instanceof GraphQLScalarType || typeof entry !== "object") throw new Error(`${typeName} is not an object type in the schema`);
  return entry as ResolverObject;
}

/** The subgraph SDL committed as schema/subgraph.graphql: what `_service { sdl }` answers, with the header. */
export function printSubgraphAppSchema(schema: GraphQLSchema): string {
  return SCHEMA_HEADER + printSubgraphSchema(schema) + "\n";
}
