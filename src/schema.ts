import { lexicographicSortSchema, printSchema, type GraphQLSchema } from "graphql";
import { validateOrReject, type ValidatorOptions } from "class-validator";
import { ArgumentValidationError, buildSchema, type BuildSchemaOptions } from "type-graphql";
import { DateTimeScalar } from "./graphql/scalars";
import { GRAPH_PARTS } from "./graph-parts";

/** The executable schema, code first. Argument classes are validated with class-validator. */
export function buildAppSchema(): Promise<GraphQLSchema> {
  return buildSchema(appSchemaOptions());
}

/**
 * What the code-first schema is built from. Shared with the federation subgraph (src/federation), so
 * that both modes run the same resolvers, scalars and argument validation.
 */
export function appSchemaOptions(): BuildSchemaOptions {
  return {
    // Each part of the graph (a source, the cross-vendor features) brings its resolvers: src/graph-parts.ts.
    resolvers: GRAPH_PARTS.flatMap((part) => part.resolvers) as unknown as BuildSchemaOptions["resolvers"],
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
