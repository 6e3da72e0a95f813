import { AsyncLocalStorage } from "node:async_hooks";
import { createHash } from "node:crypto";
import type { ApolloServerPlugin } from "@apollo/server";
import { InMemoryLRUCache, type KeyValueCache, type KeyValueCacheSetOptions } from "@apollo/utils.keyvaluecache";
import type { Principal } from "../auth/principal";

/**
 * Automatic persisted queries, one namespace per caller. Shared APQ lets any caller test whether someone
 * else ran a given document (send its hash alone: PERSISTED_QUERY_NOT_FOUND or data), so every key is
 * prefixed with a digest of the principal (kind and subject: an API key's label, a JWT's `sub`).
 *
 * Apollo's APQ cache calls carry only the hash, so the principal travels in an AsyncLocalStorage: the
 * plugin's `requestDidStart` runs synchronously at the start of Apollo's request pipeline, before the
 * APQ lookup and registration in the same async chain, and `enterWith` makes the store visible to the
 * rest of that chain (and only that request's chain). Without a principal in the store the cache is
 * empty and write-only-to-nowhere: fail closed, nothing is shared.
 */
export class PerPrincipalApq {
  private readonly storage = new AsyncLocalStorage<string>();
  readonly cache: KeyValueCache<string>;

  constructor(inner: KeyValueCache<string> = new InMemoryLRUCache<string>()) {
    this.cache = new NamespacedCache(inner, () => this.storage.getStore());
  }

  /** Apollo plugin that puts the request's principal namespace in the store. */
  plugin<C extends { principal: Principal }>(): ApolloServerPlugin<C> {
    const storage = this.storage;
    return {
      async requestDidStart({ contextValue }) {
        storage.enterWith(namespaceOf(contextValue.principal));
      },
    };
  }
}

function namespaceOf(principal: Principal): string {
  return createHash("sha256").update(`${principal.kind}\n${principal.subject}`).digest("base64url").slice(0, 22);
}

class NamespacedCache implements KeyValueCache<string> {
  constructor(
    private readonly inner: KeyValueCache<string>,
    private readonly namespace: () => string | undefined,
  ) {}

  async get(key: string): Promise<string | undefined> {
    const ns = this.namespace();
    return ns === undefined ? undefined : this.inner.get(`${ns}:${key}`);
  }

  async set(key: string, value: string, options?: KeyValueCacheSetOptions): Promise<void> {
    const ns = this.namespace();
    if (ns !== undefined) await this.inner.set(`${ns}:${key}`, value, options);
  }

  async delete(key: string): Promise<boolean | void> {
    const ns = this.namespace();
    return ns === undefined ? false : this.inner.delete(`${ns}:${key}`);
  }
}
