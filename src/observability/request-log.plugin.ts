import type { ApolloServerPlugin } from "@apollo/server";
import { unwrapResolverError } from "@apollo/server/errors";
import type { GraphQLError, GraphQLFormattedError } from "graphql";
import type { Context } from "../context";
import type { Metrics } from "./metrics";
import { MissingScopeError } from "../auth/missing-scope.error";
import { isClientMistake } from "../errors/client-mistake";
import { clip } from "./log-bounds";
import { UpstreamError } from "../upstream/upstream-error";

/**
 * One log line per GraphQL request (operation, duration, upstream calls, cache hits, error codes as sent)
 * and its duration histogram, plus the full story of any unexpected error that formatError masks: its
 * stack stays in the log, never in the response. The fast path of registered documents
 * (src/documents/fast-path.ts) calls the same two functions, so both paths log and count alike.
 */
export function requestLogPlugin(metrics: Metrics): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ contextValue }) {
      const started = performance.now();
      return {
        async didEncounterErrors({ errors }) {
          logRequestErrors(contextValue, errors);
        },
        async willSendResponse({ operationName, operation, response }) {
          const result = response.body.kind === "single" ? response.body.singleResult : undefined;
          if (result) addStaleNotes(contextValue, result);
          // `operation` is set once the document parsed and validated: only then may its name earn a label.
          logRequest(metrics, contextValue, started, operationName, operation !== undefined, result?.errors, result?.data);
        },
      };
    },
  };
}

/** The errors of a request, before formatting: the unexpected ones with their stack, the others in a word. */
export function logRequestErrors(contextValue: Context, errors: readonly GraphQLError[]): void {
  for (const error of errors) {
    const original = unwrapResolverError(error);
    if (original instanceof UpstreamError) {
      contextValue.log.info({ err: original, path: error.path, tenant: contextValue.tenantAt(error.path) }, "upstream error");
    } else if (original instanceof MissingScopeError) {
      contextValue.log.info(
        { source: original.source, requiredScope: original.requiredScope, path: error.path, tenant: contextValue.tenantAt(error.path) },
        "missing scope",
      );
    } else if (isClientMistake(error)) {
      // A persisted-query hash that does not match its query: the client's mistake, not an incident.
      contextValue.log.info({ reason: error.message }, "bad request");
    } else if (error.extensions?.code === undefined || error.extensions.code === "INTERNAL_SERVER_ERROR") {
      if (original?.constructor?.name === "ArgumentValidationError") continue;
      contextValue.log.error({ err: original, path: error.path }, "unexpected error while resolving");
    }
  }
}

/** Partial honesty: the data is there, but some of it is older than the cache TTL (the answer's `extensions.stale`). */
export function addStaleNotes(contextValue: Context, result: { extensions?: Record<string, unknown> }): void {
  if (contextValue.stale.length > 0) result.extensions = { ...result.extensions, stale: contextValue.stale };
}

/** The request's line and its duration in the histogram. `validated`: the document parsed and validated (only then may its name earn a label). */
export function logRequest(
  metrics: Metrics,
  contextValue: Context,
  started: number,
  operationName: string | null | undefined,
  validated: boolean,
  errors: readonly GraphQLFormattedError[] | undefined,
  data: unknown,
): void {
  const seconds = (performance.now() - started) / 1000;
  const outcome = !errors?.length ? "success" : data ? "partial" : "error";
  const principal = contextValue.principal;
  const caller = principal.kind === "open" ? undefined : `${principal.kind}:${principal.subject}`;
  metrics.requestDuration.observe({ operation: metrics.operationLabel(operationName, validated, caller), outcome }, seconds);
  const usage = contextValue.deadline.usage;
  contextValue.rootLog.info(
    {
      requestId: contextValue.requestId,
      caller: clip(principal.subject),
      // The tenants whose data the request read or opened: configured ids the caller may see, only.
      tenants: contextValue.tenantsTouched.size > 0 ? [...contextValue.tenantsTouched] : undefined,
      operationName: clip(operationName ?? undefined) ?? null,
      outcome,
      durationMs: Math.round(seconds * 10_000) / 10,
      upstreamCalls: usage.upstreamCalls,
      cacheHits: usage.cacheHits,
      // Vendor 404s ("no such user") are data: counted here, one debug line each.
      upstreamNotFound: usage.upstreamNotFound || undefined,
      // The vendor plan each batched relation chose (alerts by list or per user, machines by fleet or per id).
      plan: contextValue.deadline.plans.length > 0 ? contextValue.deadline.plans : undefined,
      errorCodes: errors?.map((e) => e.extensions?.code),
    },
    "graphql request",
  );
}
