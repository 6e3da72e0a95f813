import type { ApolloServerPlugin, GraphQLRequestListener } from "@apollo/server";
import type { FastifyReply } from "fastify";
import type { Context } from "./context";

/**
 * A request's work ends with its answer. graphql-js settles a result as soon as an error nulls the parent
 * of fields still running (their lookups queued behind a rate limit, or sleeping before a retry), and
 * without this they would go on, and spend the vendors' quota, after the client has its answer.
 */
const endsWithAnswer: GraphQLRequestListener<Context> = {
  async willSendResponse({ contextValue }) {
    contextValue.deadline.end();
  },
};

const listening = Promise.resolve(endsWithAnswer);

/** Ends each request's lifetime (`Deadline.end`) when its answer is sent. */
export const requestLifetimePlugin: ApolloServerPlugin<Context> = {
  // One settled promise for every request, rather than an async function's new one each time.
  requestDidStart: () => listening,
};

/**
 * And when its connection closes first: a client that went away, or an answer the server sent itself (the
 * 503 at the end of the shutdown grace period).
 */
export function endWithConnection(reply: FastifyReply, context: Context): void {
  reply.raw.once("close", () => context.deadline.end());
}
