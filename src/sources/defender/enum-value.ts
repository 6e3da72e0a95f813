import type { UnknownEnumReporter } from "../../graphql/normalize";

const tables = new WeakMap<object, Map<string, string>>();

/**
 * A Defender enum value (PascalCase on the wire: `ImpairedCommunication`, `InProgress`, `UnSpecified`) →
 * our upper-case value (`IMPAIRED_COMMUNICATION`, `IN_PROGRESS`, `UNSPECIFIED`), compared without case and
 * separators. Absent, null and "" are `unspecified` silently (Defender documents these as nullable enums);
 * anything else unknown is `unspecified` and reported once, never a failed query.
 */
export function defenderEnum<E extends string>(
  v: unknown,
  enumName: string,
  values: Readonly<Record<string, E>>,
  unspecified: E,
  report: UnknownEnumReporter,
): E {
  if (typeof v !== "string" || v === "") return unspecified;
  let table = tables.get(values);
  if (table === undefined) {
    table = new Map(Object.values(values).map((value) => [squash(value), value] as [string, string]));
    tables.set(values, table);
  }
  const value = table.get(squash(v));
  if (value !== undefined) return value as E;
  report(enumName, v);
  return unspecified;
}

function squash(s: string): string {
  return s.replace(/[\s_-]/g, "").toLowerCase();
}
