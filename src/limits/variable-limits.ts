import { GraphQLError } from "graphql";
import { ErrorCode } from "../errors/error-code";

/**
 * Lists and objects nested deeper than this in a request's variables are refused. No input of this graph
 * nests more than 2 (an ESET filter's `activeProduct`, a list of `_entities` representations), so 32 is far
 * beyond any real value, and every later walk of the variables (pricing, coercion, logging) may recurse
 * without running out of stack.
 */
export const MAX_VARIABLE_DEPTH = 32;

/**
 * The request's variables, declared or not, checked before anything reads them: nested at most
 * MAX_VARIABLE_DEPTH lists or objects deep, and every string and key well-formed UTF-16. A lone surrogate
 * cannot be written as UTF-8: `encodeURIComponent` throws on it, and Buffer, URLSearchParams and hashing
 * silently make it U+FFFD, so two different inputs would name one vendor value, cursor or cache entry.
 * String literals in the document need no check: graphql-js's lexer already refuses them.
 *
 * Hand-written (a graphql-js coercion walk would skip undeclared variables and recurse): one iterative
 * walk with an explicit stack, so a value nested 100,000 deep costs no stack, and a path is only built
 * for the problem it reports. Undefined when the variables are fine.
 */
export function variablesProblem(variables: Readonly<Record<string, unknown>>): GraphQLError | undefined {
  // Only containers get a place and go on the stack: the strings of a 1,000-id list are checked in place.
  const containers: Place[] = [];
  const containerValues: object[] = [];
  const visit = (value: unknown, name: string, key: string | number | undefined, parent: Place | undefined): GraphQLError | undefined => {
    if (typeof value === "string") return value.isWellFormed() ? undefined : illFormed(placeOf(name, key, parent), "has text that");
    if (typeof value === "object" && value !== null) {
      containers.push(placeOf(name, key, parent));
      containerValues.push(value);
    }
    return undefined;
  };
  for (const name of Object.keys(variables)) {
    if (!name.isWellFormed()) return refuse("A variable's name is not well-formed Unicode (it has a lone UTF-16 surrogate).");
    const problem = visit(variables[name], name, undefined, undefined);
    if (problem) return problem;
  }
  while (containers.length > 0) {
    const at = containers.pop()!;
    const value = containerValues.pop()!;
    if (at.depth > MAX_VARIABLE_DEPTH) {
      return refuse(
        `Variable "$${clip(at.name)}" nests lists or objects more than ${MAX_VARIABLE_DEPTH} deep; no input of this graph nests more than 2.`,
        at,
      );
    }
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const problem = visit(value[i], at.name, i, at);
        if (problem) return problem;
      }
    } else {
      for (const key of Object.keys(value)) {
        if (!key.isWellFormed()) return illFormed(at, "has a key that");
        const problem = visit((value as Record<string, unknown>)[key], at.name, key, at);
        if (problem) return problem;
      }
    }
  }
  return undefined;
}

function placeOf(name: string, key: string | number | undefined, parent: Place | undefined): Place {
  return { name, key, parent, depth: parent === undefined ? 1 : parent.depth + 1 };
}

/** Where a value sits: its variable's name, its key or index under its parent, and how many containers hold it (itself included). */
interface Place {
  name: string;
  key: string | number | undefined;
  parent: Place | undefined;
  depth: number;
}

function illFormed(at: Place, what: string): GraphQLError {
  return refuse(
    `Variable "$${clip(at.name)}" ${what} is not well-formed Unicode (a lone UTF-16 surrogate) at "${pathOf(at)}"; send text as well-formed UTF-8 or UTF-16.`,
    at,
  );
}

/** The value's path as graphql-js prints one (`ids[3]`, `filter.email`), capped: the keys are the caller's. */
function pathOf(at: Place): string {
  const parts: string[] = [];
  for (let p: Place | undefined = at; p?.key !== undefined; p = p.parent)
    parts.push(typeof p.key === "number" ? `[${p.key}]` : `.${p.key}`);
  return clip(at.name + parts.reverse().join(""), 120);
}

/** Caller text as it may be quoted back: capped, and never with a lone surrogate (also one the cap made). */
function clip(text: string, max = 40): string {
  return (text.length > max ? `${text.slice(0, max)}…` : text).toWellFormed();
}

/** Refused like a variable graphql-js cannot coerce: BAD_USER_INPUT, HTTP 400, nothing runs. */
function refuse(message: string, at?: Place): GraphQLError {
  const where = at ? { variable: `$${clip(at.name)}`, at: pathOf(at) } : {};
  return new GraphQLError(message, { extensions: { code: ErrorCode.BAD_USER_INPUT, ...where, http: { status: 400 } } });
}
