import type { ApolloServerPlugin } from "@apollo/server";
import { unwrapResolverError } from "@apollo/server/errors";
import type { Context } from "../context";
import { UpstreamError } from "../upstream/upstream-error";

/**
 * One log line per GraphQL request (operation, duration, error codes as sent), plus the full story of any
 * unexpected error that formatError masks: its stack stays in the log, never in the response.
 */
export function requestLogPlugin(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ contextValue }) {
      const started = performance.now();
      return {
        async didEncounterErrors({ errors }) {
          for (const error of errors) {
            const original = unwrapResolverError(error);
            if (original instanceof UpstreamError) {
              contextValue.log.info({ err: original, path: error.path }, "upstream error");
            } else if (error.extensions?.code === undefined || error.extensions.code === "INTERNAL_SERVER_ERROR") {
              if (original?.constructor?.name === "ArgumentValidationError") continue;
              contextValue.log.error({ err: original, path: error.path }, "unexpected error while resolving");
            }
          }
        },
        async willSendResponse({ operationName, response }) {
          if (contextValue.stale.length > 0 && response.body.kind === "single") {
            // Partial honesty: the data is there, but some of it is older than the cache TTL.
            response.body.singleResult.extensions = { ...response.body.singleResult.extensions, stale: contextValue.stale };
          }
          const errors = response.body.kind === "single" ? response.body.singleResult.errors : undefined;
          contextValue.log.info(
            {
              operationName: operationName ?? null,
              durationMs: Math.round((performance.now() - started) * 10) / 10,
              errorCodes: errors?.map((e) => e.extensions?.code),
            },
            "graphql request",
          );
        },
      };
    },
  };
}
