import { unwrapResolverError } from "@apollo/server/errors";
import type { GraphQLFormattedError } from "graphql";
import { ArgumentValidationError } from "type-graphql";
import { MissingScopeError } from "../auth/missing-scope.error";
import { TenantForbiddenError, TenantRequiredError } from "../auth/tenant-errors";
import { sourceFacts, type SourceName } from "../upstream/source";
import { UpstreamError } from "../upstream/upstream-error";
import { isClientMistake } from "./client-mistake";
import { ErrorCode } from "./error-code";

/**
 * The error table (DESIGN.md "Errors"): an upstream failure → its public code. Everything about how a
 * vendor failure is presented lives here and in `messageFor`.
 */
export function codeFor(err: UpstreamError): ErrorCode {
  switch (err.kind) {
    case "not-configured":
      return ErrorCode.SOURCE_NOT_CONFIGURED;
    case "over-price":
      return ErrorCode.OPERATION_LIMIT_EXCEEDED;
    case "pending":
      return ErrorCode.UPSTREAM_PENDING;
    case "rate-limited":
      return ErrorCode.RATE_LIMITED;
    case "circuit-open":
      return ErrorCode.UPSTREAM_UNAVAILABLE;
    case "timeout":
      return ErrorCode.UPSTREAM_TIMEOUT;
    case "network":
      return ErrorCode.UPSTREAM_UNREACHABLE;
    case "parse":
      return ErrorCode.UPSTREAM_BAD_RESPONSE;
    case "http":
      break;
  }
  const status = err.status ?? 0;
  if (err.phase === "token") {
    // A token endpoint refusing us (Entra answers 400/401 invalid_client) is a credential problem, not bad input.
    if (status === 400 || status === 401) return ErrorCode.UPSTREAM_UNAUTHENTICATED;
  }
  if (status === 400) return ErrorCode.BAD_USER_INPUT;
  if (status === 401) return ErrorCode.UPSTREAM_UNAUTHENTICATED;
  if (status === 403) return ErrorCode.UPSTREAM_FORBIDDEN;
  if (status === 429) return ErrorCode.RATE_LIMITED;
  if (status === 501 || status === 503) return ErrorCode.UPSTREAM_UNAVAILABLE;
  if (status === 504) return ErrorCode.UPSTREAM_TIMEOUT;
  if (status === 202) return ErrorCode.UPSTREAM_PENDING;
  return ErrorCode.UPSTREAM_ERROR;
}

/** A source's product name in messages, as it registered it (its name itself if it did not). */
function titleOf(source: SourceName): string {
  return sourceFacts(source)?.title ?? source;
}

/** What happened and what to do, in words a dashboard can show. Never a token, secret or credentialed URL. */
export function messageFor(err: UpstreamError, code: ErrorCode): string {
  const facts = sourceFacts(err.source);
  const name = titleOf(err.source);
  const status = err.status === undefined ? "" : ` (HTTP ${err.status})`;
  const credentials = facts?.credentials ?? `the credentials of ${name}`;
  if (err.phase === "token") {
    const tokenMessage = tokenEndpointMessage(err, code, name, credentials);
    if (tokenMessage !== undefined) return tokenMessage;
  }
  // The source's own vocabulary first (a permission to name, a subscription it needs), then the shared words.
  const own = facts?.message?.(err, code, status);
  if (own !== undefined) return own;
  switch (code) {
    case ErrorCode.OPERATION_LIMIT_EXCEEDED:
      return `This operation already made the ${err.priced ?? 0} ${name} calls its price allows (${facts?.costLimit?.setting ?? "MAX_COST"}; every attempt counts, retries included), so usergraph refused one more; ask for fewer entities in one operation.`;
    case ErrorCode.SOURCE_NOT_CONFIGURED:
      return `${name} is not configured on this usergraph: an operator must set ${credentials}.`;
    case ErrorCode.UPSTREAM_PENDING:
      return `${name} is still preparing this answer; send the same query again in a few seconds.`;
    case ErrorCode.RATE_LIMITED:
      if (err.status === undefined) {
        return `usergraph is holding calls to ${name} back to stay within its rate limit; try again in ${err.retryAfter ?? 1} s.`;
      }
      return err.retryAfter === undefined
        ? `${name} is rate-limiting usergraph${status}; try again shortly.`
        : `${name} is rate-limiting usergraph${status}; try again in ${err.retryAfter} s.`;
    case ErrorCode.UPSTREAM_TIMEOUT:
      return err.status === 504 ? `${name} timed out answering${status}; try again.` : `${name} did not answer in time; try again.`;
    case ErrorCode.UPSTREAM_UNREACHABLE:
      return `usergraph could not connect to ${name} (connection refused, reset or DNS failure); try again later.`;
    case ErrorCode.UPSTREAM_BAD_RESPONSE:
      return `${name} sent an answer usergraph could not read (not JSON, or not the documented shape).`;
    case ErrorCode.UPSTREAM_UNAUTHENTICATED:
      return err.phase === "token"
        ? `${name} refused usergraph's credentials when it asked for a token${status}; an operator must check ${credentials}.`
        : `${name} rejected usergraph's token even after a refresh${status}; an operator must check ${credentials}.`;
    case ErrorCode.UPSTREAM_FORBIDDEN:
      return `${name} refused access${status}: usergraph's account there lacks a permission; an operator must check ${credentials}.`;
    case ErrorCode.UPSTREAM_UNAVAILABLE:
      if (err.kind === "circuit-open") {
        return `${name} failed repeatedly, so usergraph stopped calling it for now; it tries again in ${err.retryAfter ?? 1} s.`;
      }
      return `${name} is unavailable or under maintenance${status}; try again later.`;
    case ErrorCode.BAD_USER_INPUT:
      return `${name} rejected the argument as invalid${status}.`;
    default:
      return `${name} failed${status} and did not recover after retries; try again later.`;
  }
}

/**
 * A failure of the vendor's token endpoint (not of its API) says so, with the OAuth `error` value, and
 * when usergraph will ask for a token again (it remembers a failure rather than logging in per request).
 */
function tokenEndpointMessage(err: UpstreamError, code: ErrorCode, name: string, credentials: string): string | undefined {
  const facts = [err.status === undefined ? undefined : `HTTP ${err.status}`, err.upstreamCode].filter((f) => f !== undefined);
  const detail = facts.length > 0 ? ` (${facts.join(", ")})` : "";
  const next = err.retryAfter === undefined ? "" : ` usergraph asks for a token again in ${err.retryAfter} s.`;
  const what: Partial<Record<ErrorCode, string>> = {
    [ErrorCode.UPSTREAM_UNAUTHENTICATED]: `${name}'s token endpoint refused usergraph's credentials${detail}; an operator must check ${credentials}.`,
    [ErrorCode.UPSTREAM_TIMEOUT]: `${name}'s token endpoint did not answer in time${detail}, so usergraph has no token to call ${name} with; try again later.`,
    [ErrorCode.UPSTREAM_UNREACHABLE]: `usergraph could not connect to ${name}'s token endpoint (connection refused, reset or DNS failure), so it has no token to call ${name} with; try again later.`,
    [ErrorCode.UPSTREAM_BAD_RESPONSE]: `${name}'s token endpoint sent an answer usergraph could not read${detail}.`,
    [ErrorCode.UPSTREAM_ERROR]: `${name}'s token endpoint failed${detail}, so usergraph has no token to call ${name} with; try again later.`,
    [ErrorCode.UPSTREAM_UNAVAILABLE]: `${name}'s token endpoint is unavailable${detail}, so usergraph has no token to call ${name} with; try again later.`,
    [ErrorCode.UPSTREAM_FORBIDDEN]: `${name}'s token endpoint refused usergraph${detail}; an operator must check ${credentials}.`,
  };
  const message = what[code];
  return message === undefined ? undefined : message + next;
}

/**
 * Codes of requests refused before any resolver ran (Apollo's and our limits). Passed through, message capped.
 * docs/errors.md's table lists each one a client can receive (test/integration/error-table.test.ts).
 */
export const APOLLO_CODES: ReadonlySet<string> = new Set([
  "OPERATION_LIMIT_EXCEEDED",
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_USER_INPUT",
  "BAD_REQUEST",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
  "OPERATION_RESOLUTION_FAILURE",
  // Trusted documents (src/documents/trusted-documents.ts): refused before anything of the document ran.
  "DOCUMENT_NOT_TRUSTED",
  "DOCUMENT_NOT_FOUND",
  // The fail-closed context's refusal (request-gate.ts): a client error to name, not an incident to mask.
  "UNAUTHENTICATED",
]);

/**
 * Apollo's formatError hook: the one mapping of anything thrown to `errors[].extensions`. Upstream errors
 * get their code and vendor facts; argument validation lists every problem without echoing the input;
 * anything unexpected is masked (it is logged with its stack by the logging plugin, never sent).
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  return formatErrorWith(formatted, error, false);
}

/** formatError with the deployment's choices: in production, no schema hints in messages. */
export function errorFormatter(options: {
  hideSchemaHints: boolean;
}): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError {
  return (formatted, error) => formatErrorWith(formatted, error, options.hideSchemaHints);
}

function formatErrorWith(formatted: GraphQLFormattedError, error: unknown, hideSchemaHints: boolean): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const where = { locations: formatted.locations, path: formatted.path };

  if (original instanceof UpstreamError) {
    const code = codeFor(original);
    return {
      message: messageFor(original, code),
      ...where,
      extensions: compact({
        code,
        source: original.source,
        // Only for the token endpoint: the API's errors keep their documented shape.
        phase: original.phase === "token" ? "token" : undefined,
        status: original.status,
        upstreamCode: original.upstreamCode,
        upstreamRequestId: original.upstreamRequestId,
        retryAfter: original.retryAfter,
        requiredPermission: original.requiredPermission,
      }),
    };
  }

  if (original instanceof TenantRequiredError) {
    return original.visible === 0
      ? {
          message: "This caller may see no tenant: its API key or token names none of this deployment's tenants.",
          ...where,
          extensions: { code: ErrorCode.FORBIDDEN },
        }
      : {
          message: `This caller sees ${original.visible} tenants: ask through tenant(id:) (Query.tenants lists them).`,
          ...where,
          extensions: { code: ErrorCode.TENANT_REQUIRED },
        };
  }

  if (original instanceof TenantForbiddenError) {
    return { message: "No such tenant for this caller.", ...where, extensions: { code: ErrorCode.FORBIDDEN } };
  }

  if (original instanceof MissingScopeError) {
    return {
      message: `This caller may not read ${titleOf(original.source)} users: it needs the ${original.requiredScope} scope.`,
      ...where,
      extensions: { code: ErrorCode.FORBIDDEN, source: original.source, requiredScope: original.requiredScope },
    };
  }

  if (original instanceof ArgumentValidationError) {
    const problems = flattenValidation(original.extensions.validationErrors);
    return {
      message: `Invalid argument: ${problems.map((p) => `${p.argument}: ${p.problems.join("; ")}`).join(" | ")}`,
      ...where,
      extensions: { code: ErrorCode.BAD_USER_INPUT, validationErrors: problems },
    };
  }

  if (isClientMistake(error)) {
    return { message: capMessage(formatted.message), ...where, extensions: { code: ErrorCode.BAD_REQUEST } };
  }

  const code = formatted.extensions?.code;
  if (code === "BAD_REQUEST" && formatted.message.includes("Cross-Site Request Forgery")) {
    // Apollo's own text runs past our message cap before it names the header that fixes it.
    return { message: CSRF_MESSAGE, extensions: { code } };
  }
  if (typeof code === "string" && APOLLO_CODES.has(code)) {
    const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
    let message = withoutEchoedValue(formatted.message);
    if (hideSchemaHints) message = message.replace(SUGGESTION, "");
    // graphql-js's own wording (sic "more that"); say which setting raises it.
    if (/^Syntax Error: Document contains more th[ae]t? \d+ tokens/.test(message)) message = `${message} (MAX_TOKENS)`;
    // graphql-js's parser recurses per nesting level: lists nested ~2,000 deep exhaust the stack before MAX_TOKENS.
    if (code === "GRAPHQL_PARSE_FAILED" && causedByStackOverflow(error)) message = DEEP_DOCUMENT_MESSAGE;
    // graphql-js quotes offending values in some messages; never send a huge input back.
    return { ...formatted, message: capMessage(message), extensions };
  }
  return { message: "Internal server error", ...where, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
}

const MAX_MESSAGE = 300;

const DEEP_DOCUMENT_MESSAGE =
  "Syntax Error: the document nests lists or objects too deeply to parse; no input of this graph nests more than 2.";

/** Whether a RangeError (the engine's "Maximum call stack size exceeded") is somewhere in the error's causes. */
function causedByStackOverflow(error: unknown): boolean {
  for (let e: unknown = error, hops = 0; e instanceof Error && hops < 5; e = (e as { originalError?: unknown }).originalError, hops++) {
    if (e instanceof RangeError) return true;
  }
  return false;
}

function capMessage(message: string): string {
  return message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}… (truncated)` : message;
}

export const CSRF_MESSAGE =
  "Blocked as a potential Cross-Site Request Forgery (CSRF): send POST with content-type: application/json, or add the header apollo-require-preflight: true (any non-empty value) to a GET.";

/**
 * graphql-js's "Did you mean …?" in every form it takes (fields, arguments, types, input fields, and enum
 * values, "Did you mean the enum value …?", which graphql-armor's block-field-suggestions pattern misses):
 * the schema spelled out to whoever probes it.
 */
const SUGGESTION = /\s*Did you mean [^?]*\?/g;

/**
 * A variable that failed coercion: graphql-js repeats the submitted value (`got invalid value <value>`,
 * `cannot represent …: <value>`, `found <value>`). Keep the variable's name, the path inside it and the
 * expected type; drop every copy of the value.
 */
function withoutEchoedValue(message: string): string {
  const m = /^Variable "(\$[_A-Za-z][_0-9A-Za-z]*)" got invalid value [\s\S]*?(?: at "([^"]{0,200})")?; ([\s\S]*)$/.exec(message);
  if (!m) return message;
  // A null in a list of non-null items: "Expected non-nullable type "_Any!" not to be null." (the general
  // pattern below read "non" from it).
  const notNull = /^Expected non-nullable type "([_A-Za-z][_0-9A-Za-z![\]]*)" not to be null/.exec(m[3]!)?.[1];
  const expected = notNull
    ? `${notNull}, not null`
    : (/Expected (?:type )?"?([_A-Za-z][_0-9A-Za-z![\]]*)"?/.exec(m[3]!)?.[1] ??
      /^([_A-Za-z][_0-9A-Za-z]*) cannot represent/.exec(m[3]!)?.[1]);
  return `Variable "${m[1]}" got an invalid value${m[2] ? ` at "${m[2]}"` : ""}${expected ? `; expected ${expected}` : ""} (the value is not repeated here).`;
}

type ValidationProblem = { property: string; constraints?: Record<string, string>; children?: ValidationProblem[] };

/** One entry per argument, and per field of an input object (`filter.activeProduct.id`), with its problems. */
function flattenValidation(errors: readonly ValidationProblem[], prefix = ""): Array<{ argument: string; problems: string[] }> {
  return errors.flatMap((v) => {
    const argument = prefix === "" ? v.property : `${prefix}.${v.property}`;
    const own = Object.values(v.constraints ?? {});
    const nested = flattenValidation(v.children ?? [], argument);
    return own.length > 0 || nested.length === 0 ? [{ argument, problems: own }, ...nested] : nested;
  });
}

function compact(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}
