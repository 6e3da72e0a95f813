import { GraphQLError } from "graphql";

/**
 * An error Apollo raised itself for a malformed request, with an HTTP 4xx status but no code: a persisted
 * query whose sha256Hash does not match the query sent with it, an unsupported persisted-query version.
 * These are the client's mistake: answered as BAD_REQUEST and logged at info, never as an internal error
 * with a stack.
 */
export function isClientMistake(error: unknown): boolean {
  if (!(error instanceof GraphQLError) || error.originalError !== undefined || error.extensions.code !== undefined) return false;
  const http = error.extensions.http as { status?: unknown } | undefined;
  return typeof http?.status === "number" && http.status >= 400 && http.status < 500;
}
