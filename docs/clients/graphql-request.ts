import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print, type GraphQLFormattedError } from "graphql";
import { GraphQLClient, type Variables } from "graphql-request";

/**
 * A graphql-request client for usergraph. `errorPolicy: "all"` keeps the data next to the errors:
 * without it, one failing field (ESET down, a missing scope) makes every request throw, data and all.
 */
export function createUsergraphRequestClient(url: string, apiKey: string): GraphQLClient {
  return new GraphQLClient(url, { headers: { "x-api-key": apiKey }, errorPolicy: "all" });
}

/**
 * `request()` returns only `data` (with `errorPolicy: "all"` the errors are dropped); `rawRequest()`
 * returns both, so a dashboard can show what answered and say why the rest is missing
 * (`errors[].extensions.code`, docs/errors.md).
 */
export async function requestWithErrors<TData, TVariables extends Variables>(
  client: GraphQLClient,
  document: TypedDocumentNode<TData, TVariables>,
  variables: TVariables,
): Promise<{ data: TData | undefined; errors: GraphQLFormattedError[] }> {
  const { data, errors } = await client.rawRequest<TData, TVariables>(print(document), variables);
  return { data, errors: errors ?? [] };
}
