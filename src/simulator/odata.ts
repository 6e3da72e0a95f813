/**
 * The small part of OData v4 `$filter` that Defender documents for its list endpoints (UPSTREAMS.md §5.1):
 * comparisons (`eq ne gt ge lt le`) of one documented property with a literal, joined by `and` / `or`, with
 * parentheses. Anything else (functions, lambdas, unknown properties) is refused the way Defender refuses
 * an invalid OData query: 400 `ODataError`. Property names match case-insensitively, as the docs' samples
 * use both `lastSeen` and `LastSeen`.
 */

export type ODataValue = string | number | boolean | null;

export interface Comparison {
  field: string;
  op: "eq" | "ne" | "gt" | "ge" | "lt" | "le";
  value: ODataValue;
}

export type FilterNode = { kind: "cmp"; cmp: Comparison } | { kind: "and" | "or"; left: FilterNode; right: FilterNode };

export class ODataError extends Error {}

const OPS = new Set(["eq", "ne", "gt", "ge", "lt", "le"]);
// Tokens: quoted strings ('' escapes a quote), parentheses, and bare words (names, numbers, ISO dates).
const TOKEN = /\s*('(?:[^']|'')*'|\(|\)|[^\s()']+)/y;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  let index = 0;
  while (index < text.length) {
    if (/^\s*$/.test(text.slice(index))) break;
    TOKEN.lastIndex = index;
    const m = TOKEN.exec(text);
    if (!m) throw new ODataError(`Syntax error at position ${index} in '${text}'.`);
    tokens.push(m[1]!);
    index = TOKEN.lastIndex;
  }
  return tokens;
}

/** Parses `$filter`, accepting only the properties in `allowed` (lower-case name → canonical name). */
export function parseFilter(text: string, allowed: ReadonlyMap<string, string>, entity: string): FilterNode {
  const tokens = tokenize(text);
  let i = 0;
  const peek = () => tokens[i];
  const next = () => {
    const t = tokens[i++];
    if (t === undefined) throw new ODataError(`Syntax error: unexpected end of '${text}'.`);
    return t;
  };
  const primary = (): FilterNode => {
    if (peek() === "(") {
      next();
      const inner = or();
      if (next() !== ")") throw new ODataError(`Syntax error: ')' expected in '${text}'.`);
      return inner;
    }
    const name = next();
    const field = allowed.get(name.toLowerCase());
    if (!field) {
      throw new ODataError(
        /^[A-Za-z_][\w/]*$/.test(name)
          ? `The query specified in the URI is not valid. Could not find a property named '${name}' on type '${entity}', or it cannot be filtered.`
          : `The query specified in the URI is not valid. Unsupported expression '${name}'.`,
      );
    }
    const op = next();
    if (!OPS.has(op)) throw new ODataError(`The query specified in the URI is not valid. Unsupported operator '${op}'.`);
    return { kind: "cmp", cmp: { field, op: op as Comparison["op"], value: literal(next()) } };
  };
  const and = (): FilterNode => {
    let node = primary();
    while (peek() === "and") {
      next();
      node = { kind: "and", left: node, right: primary() };
    }
    return node;
  };
  const or = (): FilterNode => {
    let node = and();
    while (peek() === "or") {
      next();
      node = { kind: "or", left: node, right: and() };
    }
    return node;
  };
  const tree = or();
  if (i !== tokens.length) throw new ODataError(`Syntax error: unexpected '${tokens[i]}' in '${text}'.`);
  return tree;
}

function literal(token: string): ODataValue {
  if (token.startsWith("'")) return token.slice(1, -1).replace(/''/g, "'");
  if (token === "null") return null;
  if (token === "true" || token === "false") return token === "true";
  if (/^-?\d+(\.\d+)?$/.test(token)) return Number(token);
  // DateTimeOffset literals are unquoted in OData v4: 2019-11-22T00:00:00Z
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(token)) return token;
  throw new ODataError(`The query specified in the URI is not valid. Unrecognized literal '${token}'.`);
}

/** Evaluates a parsed filter against one wire entity; dates compare as instants, strings case-insensitively. */
export function matches(node: FilterNode, entity: Record<string, unknown>, dateFields: ReadonlySet<string>): boolean {
  if (node.kind !== "cmp") {
    return node.kind === "and"
      ? matches(node.left, entity, dateFields) && matches(node.right, entity, dateFields)
      : matches(node.left, entity, dateFields) || matches(node.right, entity, dateFields);
  }
  const { field, op, value } = node.cmp;
  const actual = entity[field];
  let a: unknown = actual;
  let b: unknown = value;
  if (dateFields.has(field)) {
    a = typeof actual === "string" ? Date.parse(actual) : null;
    b = typeof value === "string" ? Date.parse(value) : value;
  } else if (Array.isArray(actual)) {
    // A collection (machineTags) equals a value when it contains it.
    return op === "eq"
      ? actual.some((x) => String(x).toLowerCase() === String(value).toLowerCase())
      : op === "ne"
        ? !actual.includes(value)
        : false;
  } else if (typeof actual === "string" || typeof value === "string") {
    a = actual === null || actual === undefined ? null : String(actual).toLowerCase();
    b = value === null ? null : String(value).toLowerCase();
  } else if (typeof actual === "bigint") {
    a = Number(actual);
  }
  if (a === undefined) a = null;
  switch (op) {
    case "eq":
      return a === b;
    case "ne":
      return a !== b;
    default: {
      if (a === null || b === null) return false;
      const x = a as number | string;
      const y = b as number | string;
      return op === "gt" ? x > y : op === "ge" ? x >= y : op === "lt" ? x < y : x <= y;
    }
  }
}
