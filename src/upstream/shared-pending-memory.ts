import { createHash } from "node:crypto";
import type { LocalPending, PendingMemory, PendingStore } from "./http-json";
import type { RedisLink } from "../store/redis-link";

/**
 * ESET's pending response-ids, shared: a client whose first attempt hit replica A and whose retry lands on
 * replica B resumes A's response-id instead of asking ESET to start the same query again. The in-process
 * memory stays in front (and is all there is while Redis is away). Keys are digests: a request's path
 * and body never sit in Redis, and the namespace keeps two ESET accounts apart.
 */
export class SharedPendingMemory implements PendingStore {
  private readonly prefix: string;
  private readonly local: LocalPending;
  private readonly ttlMs: number;

  constructor(
    local: PendingMemory,
    private readonly link: RedisLink,
    namespace: string,
  ) {
    this.prefix = `${link.prefix}p:${namespace}`;
    this.local = local.within(namespace);
    this.ttlMs = local.ttlMs;
  }

  async get(key: string): Promise<string | undefined> {
    const here = this.local.get(key);
    if (here !== undefined || !this.link.available) return here;
    try {
      return (await this.link.client.get(this.redisKey(key))) ?? undefined;
    } catch (err) {
      this.link.noteFailure("pending read", err);
      return undefined;
    }
  }

  set(key: string, responseId: string): void {
    this.local.set(key, responseId);
    if (!this.link.available) return;
    this.link.client
      .set(this.redisKey(key), responseId, "PX", this.ttlMs)
      .catch((err: unknown) => this.link.noteFailure("pending write", err));
  }

  delete(key: string): void {
    this.local.delete(key);
    if (!this.link.available) return;
    this.link.client.del(this.redisKey(key)).catch((err: unknown) => this.link.noteFailure("pending delete", err));
  }

  private redisKey(key: string): string {
    return this.prefix + createHash("sha256").update(key).digest("base64url");
  }
}
