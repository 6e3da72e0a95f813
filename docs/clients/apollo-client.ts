import { ApolloClient, CombinedGraphQLErrors, HttpLink, InMemoryCache, ServerError, type TypePolicies } from "@apollo/client";
import type { GraphQLFormattedError } from "graphql";

/**
 * How Apollo Client's cache should key usergraph's types. Apollo normalises an object only by `id` (or
 * `_id`) unless told otherwise; every usergraph object type without an `id: ID!` is listed here, with
 * its key or `keyFields: false` (a value kept inside its parent).
 */
export const typePolicies: TypePolicies = {
  // Entities whose key is not `id`. A query must select the key field wherever the type appears.
  EsetUser: { keyFields: ["uuid"] }, // the federation key too: @key(fields: "uuid")
  Person: { keyFields: ["ref"] }, // one person view per reference asked

  // Results of one ranking or one link computation: the same account ranked over another window, or
  // linked with other evidence at hand, is another result. DefenderUserRisk has an `id` (the account),
  // but its counts depend on the query's window, so it is not merged across queries either.
  DefenderUserRisk: { keyFields: false },
  PersonRisk: { keyFields: false },
  UserLink: { keyFields: false },
  LinkReason: { keyFields: false },

  // Connections and their parts belong to the field and arguments that listed them.
  DefenderAlertConnection: { keyFields: false, merge: true },
  DefenderAlertEdge: { keyFields: false },
  DefenderAlertFacets: { keyFields: false, merge: true },
  DefenderMachineConnection: { keyFields: false, merge: true },
  DefenderMachineEdge: { keyFields: false },
  DefenderMachineFacets: { keyFields: false, merge: true },
  DefenderUserRiskConnection: { keyFields: false, merge: true },
  DefenderUserRiskEdge: { keyFields: false },
  EsetUserConnection: { keyFields: false, merge: true },
  EsetUserEdge: { keyFields: false },
  PersonRiskConnection: { keyFields: false, merge: true },
  PersonRiskEdge: { keyFields: false },
  PageInfo: { keyFields: false, merge: true },
  FacetCount: { keyFields: false },

  // Parts of one entity, with no identity of their own. `merge: true`: two queries selecting different
  // fields of a user's cloudOffice (or an alert's relatedUser) add up instead of replacing each other.
  CloudOffice: { keyFields: false, merge: true },
  AlertRelatedUser: { keyFields: false, merge: true },
  Identity: { keyFields: false },
  AlertComment: { keyFields: false },
  AlertEvidence: { keyFields: false },
  MachineIpAddress: { keyFields: false },

  Query: {
    fields: {
      // esetUser(uuid:) reads a user the cache already holds (from esetUsers, esetUserList, a link…)
      // instead of asking again. A null answer (ESET does not know the uuid) stays null.
      esetUser: {
        read: (existing, { args, toReference }) =>
          existing !== undefined ? existing : toReference({ __typename: "EsetUser", uuid: args?.uuid as string }),
      },
    },
  },
};

// Apollo Client 4 types a result by its errorPolicy: declare the default once, for the whole program.
declare module "@apollo/client" {
  export namespace ApolloClient {
    export namespace DeclareDefaultOptions {
      interface Query {
        errorPolicy: "all";
      }
      interface WatchQuery {
        errorPolicy: "all";
      }
    }
  }
}

/**
 * An Apollo Client for usergraph: its cache keys, and partial results kept. Without `errorPolicy: "all"`,
 * one source failing (ESET down, a missing scope) throws the other source's data away with it.
 */
export function createUsergraphApolloClient(url: string, apiKey: string): ApolloClient {
  return new ApolloClient({
    link: new HttpLink({ uri: url, headers: { "x-api-key": apiKey } }),
    cache: new InMemoryCache({ typePolicies }),
    defaultOptions: {
      query: { errorPolicy: "all" },
      watchQuery: { errorPolicy: "all" },
    },
  });
}

/**
 * The usergraph errors behind an Apollo Client 4 `error`, each with its `extensions.code` and `path`
 * (docs/errors.md). A partial answer or a refused operation (HTTP 400) arrives as `CombinedGraphQLErrors`;
 * a refusal at the HTTP layer (401, 413, 415, 429, 503) as a `ServerError`, whose body usergraph also
 * writes as GraphQL errors.
 */
export function usergraphErrors(error: unknown): readonly GraphQLFormattedError[] {
  if (CombinedGraphQLErrors.is(error)) return error.errors;
  if (ServerError.is(error)) {
    try {
      return (JSON.parse(error.bodyText) as { errors?: GraphQLFormattedError[] }).errors ?? [];
    } catch {
      return []; // not usergraph's answer (a proxy's error page): error.statusCode says what happened
    }
  }
  return [];
}
