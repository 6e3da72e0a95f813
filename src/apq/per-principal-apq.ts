import { createHash } from "node:crypto";
import type { ApolloServerPlugin } from "@apollo/server";
import { InMemoryLRUCache, type KeyValueCache } from "@apollo/utils.keyvaluecache";
import type { Principal } from "../auth/principal";

/**
 * Automatic persisted queries, one namespace per caller (and per the tenants it names). Shared APQ lets any caller test whether someone
 * else ran a given document (send its hash alone: PERSISTED_QUERY_NOT_FOUND or data), so every stored hash
 * is keyed by a digest of the principal too (kind and subject: an API key's label, a JWT's `sub`).
 *
 * Apollo's APQ cache calls carry only the hash, not the request, so the lookup and the registration are
 * done here, in a plugin that sees the request's principal; Apollo's own APQ keeps its protocol (version
 * check, hash check, PERSISTED_QUERY_NOT_FOUND) over a cache that never holds anything:
 * - `requestDidStart` (awaited by Apollo before its APQ step): a hash without a query is looked up in the
 *   caller's namespace and, when found, the query is put on the request, so Apollo proceeds as if the
 *   client had sent both; when not found Apollo's empty cache answers PERSISTED_QUERY_NOT_FOUND;
 * - `didResolveOperation` (after parsing and validation, as Apollo registers): a query sent with its
 *   hash is stored under the caller's namespace if the hash matches (Apollo refuses a mismatch itself).
 * Chosen over an AsyncLocalStorage carrying the principal into the cache calls: that turns on Node's
 * promise hooks for every promise in the process.
 */
export class PerPrincipalApq {
  /** Given to Apollo as its APQ cache: it never holds anything, the namespaced store is `store`. */
  readonly apolloCache: KeyValueCache<string> = NEVER_HOLDS;

  constructor(
    private readonly store: KeyValueCache<string> = new InMemoryLRUCache<string>(),
    private readonly ttlSeconds = 3600,
  ) {}

  plugin<C extends { principal: Principal }>(): ApolloServerPlugin<C> {
    const { store, ttlSeconds } = this;
    return {
      async requestDidStart({ request, contextValue }) {
        const persisted = request.extensions?.persistedQuery as { version?: unknown; sha256Hash?: unknown } | undefined;
        if (persisted?.version !== 1 || typeof persisted.sha256Hash !== "string" || !SHA256_HEX.test(persisted.sha256Hash)) return;
        const key = keyOf(contextValue.principal, persisted.sha256Hash);
        if (request.query === undefined) {
          const query = await store.get(key);
          if (query !== undefined) request.query = query;
          return;
        }
        const sent = request.query;
        return {
          async didResolveOperation() {
            // Apollo has already refused a hash that does not match; check again rather than rely on it.
            if (createHash("sha256").update(sent).digest("hex") !== persisted.sha256Hash) return;
            await Promise.resolve(store.set(key, sent, { ttl: ttlSeconds })).catch(() => {});
          },
        };
      },
    };
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The caller's namespace: kind and subject, and the tenants its credential names. The subject alone is not
 * enough with tenants: two JWTs with one `sub` (or none: "(no sub)") may name different tenants, and the
 * text of a query one tenant's caller stored (its literals) must not be run or confirmed for another's. A
 * credential that names no tenant keeps the namespace it had before tenants, so no stored hash is lost.
 */
function keyOf(principal: Principal, hash: string): string {
  const named = principal.tenants;
  const tenants = named === undefined ? "" : `\n${named === "*" ? "*" : [...named].sort().join("+")}`;
  const namespace = createHash("sha256").update(`${principal.kind}\n${principal.subject}${tenants}`).digest("base64url").slice(0, 22);
  return `${namespace}:${hash}`;
}

const NEVER_HOLDS: KeyValueCache<string> = {
  get: async () => undefined,
  set: async () => {},
  delete: async () => false,
};
