import { GraphQLError } from "graphql";
import type { IdListArgument } from "./price-book";

/**
 * Defence in depth behind the cost plugin: a resolver refuses an id list over its limit even if the
 * operation got past the plugin (a new entry point, a plugin misconfigured), before any loader runs.
 */
export function assertListWithin(maxListIds: Readonly<Record<string, number>>, field: string, list: IdListArgument, length: number): void {
  const max = maxListIds[field];
  if (max === undefined || length <= max) return;
  throw new GraphQLError(`${field}(${list.arg}:) has ${length} ids; the limit is ${max} (${list.setting}).`, {
    extensions: { code: "BAD_USER_INPUT", limit: list.setting, max, actual: length },
  });
}
