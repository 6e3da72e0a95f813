/**
 * The wire is loose (UPSTREAMS.md §1.2, §2.10): any field but the key may be absent, null, "" or of a
 * surprising type. These helpers turn one wire value into what the schema promises, and never throw.
 */

/** Told once per unknown enum value, so the vendor adding one shows in the logs, not as a failed query. */
export type UnknownEnumReporter = (enumName: string, wireValue: string) => void;

/** A non-empty string, or null. Numbers and booleans are printed; anything else is null. */
export function str(v: unknown): string | null {
  if (typeof v === "string") return v === "" ? null : v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return null;
}

/** A list of non-empty strings; a missing or malformed list is empty. */
export function strList(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  const out: string[] = [];
  for (const item of v) {
    const s = str(item);
    if (s !== null) out.push(s);
  }
  return out;
}

/** RFC 3339 timestamp → Date; "" (ESET: unknown) and unparsable values → null. */
export function date(v: unknown): Date | null {
  if (typeof v !== "string" || v === "") return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Booleans, and the strings "true"/"false" some fixtures show. */
export function bool(v: unknown): boolean | null {
  if (typeof v === "boolean") return v;
  if (v === "true") return true;
  if (v === "false") return false;
  return null;
}

/** A 32-bit integer (GraphQL Int), from a number or a numeric string. */
export function int(v: unknown): number | null {
  const n = typeof v === "number" ? v : typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) && n >= -2147483648 && n <= 2147483647 ? n : null;
}

/**
 * int64 ids as exact decimal strings. A JSON number arrives here only when it is a safe integer (the
 * lossless parser turns larger ones into strings), so String() is exact.
 */
export function int64List(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  const out: string[] = [];
  for (const item of v) {
    if (typeof item === "number" && Number.isSafeInteger(item)) out.push(String(item));
    else if (typeof item === "string" && /^-?\d+$/.test(item)) out.push(item.replace(/^(-?)0+(?=\d)/, "$1"));
  }
  return out;
}

/** "Network, RemoteInteractive" → ["Network", "RemoteInteractive"]; a list is accepted as well. */
export function splitList(v: unknown): string[] {
  if (Array.isArray(v))
    return strList(v)
      .map((s) => s.trim())
      .filter((s) => s !== "");
  if (typeof v !== "string") return [];
  return v
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/**
 * A wire enum value → our enum: the vendor's prefix is dropped, aliases applied, anything unknown becomes
 * UNSPECIFIED (and is reported). Absent and "" are UNSPECIFIED silently: that is the vendor's own default.
 */
export function enumValue<E extends string>(
  v: unknown,
  enumName: string,
  prefix: string,
  known: Readonly<Record<string, E>>,
  unspecified: E,
  report: UnknownEnumReporter,
  aliases: Readonly<Record<string, E>> = {},
): E {
  if (typeof v !== "string" || v === "") return unspecified;
  const bare = v.startsWith(prefix) ? v.slice(prefix.length) : v;
  const value = aliases[bare] ?? known[bare];
  if (value !== undefined) return value;
  report(enumName, v);
  return unspecified;
}
