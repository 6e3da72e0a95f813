import { lexicographicSortSchema, printSchema, type GraphQLSchema } from "graphql";
import { validateOrReject, type ValidatorOptions } from "class-validator";
import { ArgumentValidationError, buildSchema, type BuildSchemaOptions } from "type-graphql";
import { DefenderUserLinksResolver } from "./people/defender-user-links.resolver";
import { DefenderUserResolver } from "./sources/defender/users/user.resolver";
import { EsetUserLinksResolver } from "./people/eset-user-links.resolver";
import { EsetUserListResolver } from "./sources/eset/user-list/user-list.resolver";
import { EsetUserResolver } from "./sources/eset/users/user.resolver";
import { PersonResolver } from "./people/person.resolver";
import { DateTimeScalar } from "./graphql/scalars";
import { DefenderAlertListResolver } from "./sources/defender/alerts/alert-list.resolver";
import {
  DefenderAlertMachineResolver,
  DefenderMachineAlertsResolver,
  DefenderUserAlertsResolver,
} from "./sources/defender/alerts/alert-relations.resolver";
import { DefenderMachineResolver } from "./sources/defender/machines/machine.resolver";
import { DefenderUserMachinesResolver } from "./sources/defender/machines/user-machines.resolver";

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
    resolvers: [
      DefenderUserResolver,
      EsetUserResolver,
      EsetUserListResolver,
      EsetUserLinksResolver,
      DefenderUserLinksResolver,
      PersonResolver,
      DefenderMachineResolver,
      DefenderUserMachinesResolver,
      DefenderUserAlertsResolver,
      DefenderMachineAlertsResolver,
      DefenderAlertMachineResolver,
      DefenderAlertListResolver,
    ],
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
