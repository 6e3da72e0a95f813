import { lexicographicSortSchema, printSchema, type GraphQLSchema } from "graphql";
import { buildSchema } from "type-graphql";
import { scopeChecker } from "./auth/auth-checker";
import { DefenderUserResolver } from "./graphql/defender-user.resolver";
import { EsetUserResolver } from "./graphql/eset-user.resolver";
import { DateTimeScalar } from "./graphql/scalars";

/** The executable schema, code first. Argument classes are validated with class-validator. */
export function buildAppSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [DefenderUserResolver, EsetUserResolver],
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    authChecker: scopeChecker,
    validate: { forbidUnknownValues: false, validationError: { target: false, value: false } },
  });
}

export const SCHEMA_HEADER = "# Generated from the code by `npm run schema:emit`; do not edit. A test fails when this file drifts.\n\n";

/** The SDL committed as schema/schema.graphql: sorted, so that moving code around does not churn it. */
export function printAppSchema(schema: GraphQLSchema): string {
  return SCHEMA_HEADER + printSchema(lexicographicSortSchema(schema)) + "\n";
}
