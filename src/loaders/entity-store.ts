import type { EntityCache } from "../cache/entity-cache";
import type { Deadline } from "../upstream/deadline";
import type { SourceName } from "../upstream/source";
import { UpstreamError } from "../upstream/upstream-error";

/** What a key resolves to: the entity, null (the vendor does not know it), or the error for that key. */
export type Outcome<V> = V | null | Error;

/** A stale entry was served because the vendor failed (goes into the response's `extensions.stale`). */
export interface StaleNote {
  source: SourceName;
  id: string;
  ageSeconds: number;
  reason: string;
}

/** Told about each lookup's result, for metrics. */
export type LookupObserver = (source: SourceName, result: "hit" | "miss" | "joined" | "stale", count: number) => void;

export interface EntityStoreOptions<V> {
  source: SourceName;
  /** Source plus an identity of the credentials, so two configurations never read each other's entries. */
  keyPrefix: string;
  cache?: EntityCache;
  /** How long an entity is served without asking the vendor; 0 turns caching off for this source. */
  freshMs: number;
  /** How long a 404 is remembered. */
  negativeMs: number;
  /** How long past freshness an entry may still be served when the vendor fails; 0 = never. */
  staleIfErrorMs: number;
  /** Fetches keys nobody is fetching yet. Must settle every key (value, null or Error); never throws per key. */
  fetchMany: (keys: string[], deadline: Deadline) => Promise<Map<string, Outcome<V>>>;
  observe?: LookupObserver;
}

/**
 * The layer between the per-request loaders and the clients, shared by all requests: answers fresh keys
 * from the cache, joins keys that another request is already fetching (single-flight across requests),
 * fetches the rest in one go, caches what comes back (404s briefly), and on a vendor failure may serve a
 * stale entry instead, reporting it.
 */
export class EntityStore<V> {
  private readonly inflight = new Map<string, Promise<Outcome<V>>>();

  constructor(private readonly options: EntityStoreOptions<V>) {}

  async loadMany(keys: readonly string[], deadline: Deadline, onStale: (note: StaleNote) => void): Promise<Array<Outcome<V>>> {
    const { cache, keyPrefix } = this.options;
    const out = new Array<Outcome<V>>(keys.length);
    const waits: Array<Promise<void>> = [];
    const toFetch: string[] = [];
    const toFetchIndex: number[] = [];
    const now = Date.now();

    keys.forEach((key, i) => {
      const cacheKey = keyPrefix + key;
      const entry = cache?.get(cacheKey);
      if (entry !== undefined && now < entry.freshUntil) {
        out[i] = entry.value as V | null;
        return;
      }
      const flight = this.inflight.get(cacheKey);
      if (flight !== undefined) {
        waits.push(flight.then((outcome) => void (out[i] = this.orStale(key, outcome, onStale))));
        return;
      }
      toFetch.push(key);
      toFetchIndex.push(i);
    });

    const hitsNow = keys.length - toFetch.length - waits.length;
    deadline.usage.cacheHits += hitsNow;
    const observe = this.options.observe;
    if (observe) {
      if (hitsNow > 0) observe(this.options.source, "hit", hitsNow);
      if (waits.length > 0) observe(this.options.source, "joined", waits.length);
      if (toFetch.length > 0) observe(this.options.source, "miss", toFetch.length);
    }

    if (toFetch.length > 0) {
      const fetched = this.options
        .fetchMany(toFetch, deadline)
        .catch((err: unknown) => new Map(toFetch.map((k) => [k, asError(err)] as const)));
      const flights = toFetch.map((key) => {
        const flight = fetched.then((m) => m.get(key) ?? null);
        this.inflight.set(keyPrefix + key, flight);
        return flight;
      });
      const results = await fetched;
      toFetch.forEach((key, j) => {
        const cacheKey = keyPrefix + key;
        if (this.inflight.get(cacheKey) === flights[j]) this.inflight.delete(cacheKey);
        const outcome = results.get(key) ?? null;
        this.remember(cacheKey, outcome);
        out[toFetchIndex[j]!] = this.orStale(key, outcome, onStale);
      });
    }
    await Promise.all(waits);
    return out;
  }

  /**
   * The fresh cached outcome of a key, or undefined: lets a resolver answer a cache hit synchronously,
   * without DataLoader's tick and the promise hops of `loadMany`.
   */
  peekFresh(key: string, deadline: Deadline): V | null | undefined {
    const entry = this.options.cache?.get(this.options.keyPrefix + key);
    if (entry === undefined || Date.now() >= entry.freshUntil) return undefined;
    deadline.usage.cacheHits++;
    this.options.observe?.(this.options.source, "hit", 1);
    return entry.value as V | null;
  }

  private remember(cacheKey: string, outcome: Outcome<V>): void {
    const { cache, freshMs, negativeMs, staleIfErrorMs } = this.options;
    if (!cache || outcome instanceof Error) return;
    if (outcome === null) {
      if (negativeMs > 0) cache.set(cacheKey, null, negativeMs, negativeMs);
      return;
    }
    if (freshMs > 0 || staleIfErrorMs > 0) cache.set(cacheKey, outcome, freshMs, freshMs + staleIfErrorMs);
  }

  private orStale(key: string, outcome: Outcome<V>, onStale: (note: StaleNote) => void): Outcome<V> {
    if (!(outcome instanceof Error) || this.options.staleIfErrorMs <= 0 || !vendorFailure(outcome)) return outcome;
    const entry = this.options.cache?.get(this.options.keyPrefix + key);
    if (entry === undefined || entry.value === null) return outcome;
    const ageMs = Date.now() - entry.storedAt;
    if (ageMs > this.options.freshMs + this.options.staleIfErrorMs) return outcome;
    const reason = outcome instanceof UpstreamError && outcome.status !== undefined ? `HTTP ${outcome.status}` : (outcome as UpstreamError).kind;
    onStale({ source: this.options.source, id: key, ageSeconds: Math.round(ageMs / 1000), reason });
    this.options.observe?.(this.options.source, "stale", 1);
    return entry.value as V;
  }
}

/** Failures of the vendor (not of our request or our credentials) justify serving stale data. */
function vendorFailure(err: Error): boolean {
  if (!(err instanceof UpstreamError)) return false;
  if (err.kind === "not-configured") return false;
  if (err.kind === "http") return err.status === 429 || (err.status !== undefined && err.status >= 500);
  return true;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
