import type { KeyValueCache, KeyValueCacheSetOptions } from "@apollo/utils.keyvaluecache";
import type { RedisLink } from "../store/redis-link";

/**
 * Apollo's automatic persisted queries, shared: a hash registered through one replica is known to all, so
 * a client behind a load balancer does not see PersistedQueryNotFound on every replica in turn. While
 * Redis is away reads miss and writes are dropped; clients then send the full query once, as APQ intends.
 */
export class RedisApqCache implements KeyValueCache<string> {
  private readonly prefix: string;

  constructor(private readonly link: RedisLink) {
    this.prefix = `${link.prefix}apq:`;
  }

  async get(key: string): Promise<string | undefined> {
    if (!this.link.available) return undefined;
    try {
      return (await this.link.client.get(this.prefix + key)) ?? undefined;
    } catch (err) {
      this.link.noteFailure("apq read", err);
      return undefined;
    }
  }

  async set(key: string, value: string, options?: KeyValueCacheSetOptions): Promise<void> {
    if (!this.link.available) return;
    try {
      const ttlSeconds = options?.ttl;
      if (typeof ttlSeconds === "number" && ttlSeconds > 0)
        await this.link.client.set(this.prefix + key, value, "EX", Math.ceil(ttlSeconds));
      else await this.link.client.set(this.prefix + key, value);
    } catch (err) {
      this.link.noteFailure("apq write", err);
    }
  }

  async delete(key: string): Promise<boolean> {
    if (!this.link.available) return false;
    try {
      return (await this.link.client.del(this.prefix + key)) > 0;
    } catch (err) {
      this.link.noteFailure("apq delete", err);
      return false;
    }
  }
}
