import { lexicographicSortSchema, printSchema, type GraphQLSchema } from "graphql";
import { validateOrReject, type ValidatorOptions } from "class-validator";
import { ArgumentValidationError, buildSchema, type BuildSchemaOptions } from "type-graphql";
import { PartScopes, refuseComputedFields } from "./auth/part-scopes";
import { DateTimeScalar } from "./graphql/scalars";
import type { GraphPart } from "./graphql/graph-part";
import { graphParts } from "./graph-parts";
import { withTenantFields } from "./tenant-schema";

/**
 * The executable schema, code first, from the parts of the graph (every registered one unless a test
 * names others). Argument classes are validated with class-validator; every field a part's resolvers
 * declare needs the part's scopes (src/auth/part-scopes.ts). The federation subgraph builds on it.
 */
export async function buildAppSchema(
  parts: readonly GraphPart[] = graphParts(),
  options: { tenants?: boolean } = {},
): Promise<GraphQLSchema> {
  const built = await buildSchema(appSchemaOptions(parts));
  // Query.tenant(id:) and Query.tenants (src/tenant-schema.ts); the federation subgraph leaves them out.
  const schema = options.tenants === false ? built : withTenantFields(built);
  // type-graphql builds the root type itself and takes no description for it; graphql-js keeps the
  // description as a plain property, read by introspection and printSchema (the schema linter asks for it).
  const query = schema.getQueryType();
  if (query) query.description = QUERY_DESCRIPTION;
  refuseComputedFields(schema);
  return schema;
}

const QUERY_DESCRIPTION =
  "usergraph's entry points: each source's own users (and, where it has them, machines and alerts), and the views that join the sources (person, peopleAtRisk). Every field is nullable: a failing vendor, a refused argument or a missing scope nulls that field alone, with an error whose path names it (codes: docs/errors.md).";

function appSchemaOptions(parts: readonly GraphPart[]): BuildSchemaOptions {
  return {
    // Each part of the graph (a source, the cross-vendor features) brings its resolvers: src/graph-parts.ts.
    resolvers: parts.flatMap((part) => part.resolvers) as unknown as BuildSchemaOptions["resolvers"],
    // type-graphql gets every resolver instance from here, on every call: the scope check of its part.
    container: new PartScopes(parts),
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    validateFn: validateArgs,
  };
}

const VALIDATOR_OPTIONS: ValidatorOptions = { forbidUnknownValues: false, validationError: { target: false, value: false } };

/**
 * class-validator decides, and words every refusal. An argument class may offer `isPlainlyValid`, the same
 * rules compiled into a quick check: when that passes, the metadata walk is skipped on the hot path (a
 * test holds the two to agreeing on every sample).
 */
async function validateArgs(argValue: unknown, argType: unknown): Promise<void> {
  if (argValue === null || typeof argValue !== "object") return;
  const quick = (argType as { isPlainlyValid?: (value: unknown) => boolean }).isPlainlyValid;
  if (quick?.(argValue)) return;
  try {
    await validateOrReject(argValue, VALIDATOR_OPTIONS);
  } catch (errors) {
    throw new ArgumentValidationError(errors as ConstructorParameters<typeof ArgumentValidationError>[0]);
  }
}

export const SCHEMA_HEADER = "# Generated from the code by `npm run schema:emit`; do not edit. A test fails when this file drifts.\n\n";

/** The SDL committed as schema/schema.graphql: sorted, so that moving code around does not churn it. */
export function printAppSchema(schema: GraphQLSchema): string {
  return SCHEMA_HEADER + printSchema(lexicographicSortSchema(schema)) + "\n";
}
