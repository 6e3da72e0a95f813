import { GraphQLError } from "graphql";
import { LIST_ARGUMENTS } from "./operation-limits";

/**
 * Defence in depth behind the cost plugin: a resolver refuses an id list over its limit even if the
 * operation got past the plugin (a new entry point, a plugin misconfigured), before any loader runs.
 */
export function assertListWithin(maxListIds: Readonly<Record<string, number>>, field: string, length: number): void {
  const max = maxListIds[field];
  const list = LIST_ARGUMENTS[field];
  if (max === undefined || list === undefined || length <= max) return;
  throw new GraphQLError(`${field}(${list.arg}:) has ${length} ids; the limit is ${max} (${list.setting}).`, {
    extensions: { code: "BAD_USER_INPUT", limit: list.setting, max, actual: length },
  });
}
