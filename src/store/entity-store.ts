import type { EntityCache } from "./entity-cache";
import { entryJson, type SharedEntities, type SharedEntry } from "./shared-entities";
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
export type LookupObserver = (
  source: SourceName,
  result: "hit" | "miss" | "joined" | "stale" | "shared_hit" | "shared_joined",
  count: number,
) => void;

/** How long a flight's outcome stays readable for replicas that waited on it, when the cache would not keep it. */
const FLIGHT_HOLD_MS = 2_000;
/**
 * A flight's claim is a short lease that the holder renews while it lives (every third of the lease), so a
 * replica that crashes mid-flight stalls the same ids on the others for at most this long, not for a whole
 * request deadline.
 */
export const CLAIM_LEASE_MS = 2_000;

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
  /** The shared tier (Redis): entries every replica reads, and single flight across replicas. */
  shared?: SharedEntities;
}

/**
 * The layer between the per-request loaders and the clients, shared by all requests: answers fresh keys
 * from the cache, joins keys that another request is already fetching (single-flight across requests),
 * fetches the rest in one go, caches what comes back (404s briefly), and on a vendor failure may serve a
 * stale entry instead, reporting it.
 *
 * With a shared tier, the in-process cache is a layer in front of Redis: keys it misses are read from
 * Redis; keys Redis misses are claimed there, so of several replicas asking at once one calls the vendor
 * and the others wait for its outcome. Redis failing at any step means carrying on in process.
 */
export class EntityStore<V> {
  /** Keys being fetched, with the request whose deadline and lifetime the fetch runs under. */
  private readonly inflight = new Map<string, { outcome: Promise<Outcome<V>>; owner: Deadline }>();

  constructor(private readonly options: EntityStoreOptions<V>) {}

  async loadMany(keys: readonly string[], deadline: Deadline, onStale: (note: StaleNote) => void): Promise<Array<Outcome<V>>> {
    const { cache, keyPrefix } = this.options;
    const out = new Array<Outcome<V>>(keys.length);
    const waits: Array<Promise<void>> = [];
    const joinedIndex: number[] = [];
    /** The other requests whose fetches this one joined: each goes on while this one waits for it. */
    let owners: Set<Deadline> | undefined;
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
      // A fetch whose requests are all over is being abandoned: a newcomer fetches for itself.
      if (flight !== undefined && !flight.owner.expired()) {
        waits.push(flight.outcome.then((outcome) => void (out[i] = this.orStale(key, outcome, onStale))));
        joinedIndex.push(i);
        if (flight.owner !== deadline) (owners ??= new Set()).add(flight.owner);
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
      const fetched = this.resolveMissing(toFetch, deadline).catch(
        (err: unknown) => new Map(toFetch.map((k) => [k, asError(err)] as const)),
      );
      const flights = toFetch.map((key) => {
        const flight = { outcome: fetched.then((m) => m.get(key) ?? null), owner: deadline };
        this.inflight.set(keyPrefix + key, flight);
        return flight;
      });
      const results = await fetched;
      toFetch.forEach((key, j) => {
        const cacheKey = keyPrefix + key;
        if (this.inflight.get(cacheKey) === flights[j]) this.inflight.delete(cacheKey);
        out[toFetchIndex[j]!] = this.orStale(key, results.get(key) ?? null, onStale);
      });
    }
    if (waits.length > 0) await this.awaitJoined(waits, joinedIndex, owners, out, deadline);
    return out;
  }

  /**
   * Waits for the fetches of other requests this one joined, keeping each alive meanwhile (their owners may
   * have answered already); this request leaves at its own deadline or end, with the deadline's error for
   * what it did not get, and a fetch whose every waiter left stops.
   */
  private async awaitJoined(
    waits: Array<Promise<void>>,
    joinedIndex: readonly number[],
    owners: ReadonlySet<Deadline> | undefined,
    out: Array<Outcome<V>>,
    deadline: Deadline,
  ): Promise<void> {
    const holds = owners === undefined ? [] : [...owners].map((owner) => owner.keepAliveFor(deadline));
    try {
      await (holds.length === 0 ? Promise.all(waits) : deadline.race(Promise.all(waits), this.options.source));
    } catch (err) {
      for (const i of joinedIndex) if (out[i] === undefined) out[i] = asError(err);
    } finally {
      for (const release of holds) release();
    }
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

  /**
   * Entities learned another way (a page of a list): cached as if looked up, in process and in Redis, so
   * a follow-up lookup of any of them costs no vendor call. Does nothing when caching is off.
   */
  prime(entities: ReadonlyArray<readonly [string, V]>): void {
    const { freshMs, staleIfErrorMs, keyPrefix, shared } = this.options;
    if (freshMs <= 0 || entities.length === 0) return;
    const now = Date.now();
    const token = shared?.available ? shared.newToken() : "";
    const entries: Array<{ key: string; json: string; ttlMs: number }> = [];
    for (const [key, value] of entities) {
      const valueJson = JSON.stringify(value);
      this.remember(keyPrefix + key, value, valueJson.length);
      if (token !== "")
        entries.push({
          key,
          json: entryJson(now, now + freshMs, now + freshMs + staleIfErrorMs, token, valueJson),
          ttlMs: freshMs + staleIfErrorMs,
        });
    }
    if (entries.length > 0)
      shared!.publish(token, entries, [], FLIGHT_HOLD_MS, []).catch((err: unknown) => shared!.noteFailure("cache prime", err));
  }

  /** Keys neither fresh in process nor in flight here: from the shared tier when there is one, else the vendor. */
  private resolveMissing(keys: string[], deadline: Deadline): Promise<Map<string, Outcome<V>>> {
    const shared = this.options.shared;
    return shared?.available ? this.resolveShared(shared, keys, deadline) : this.fetchAndRemember(keys, deadline);
  }

  private async fetchAndRemember(keys: string[], deadline: Deadline): Promise<Map<string, Outcome<V>>> {
    const results = await this.options.fetchMany(keys, deadline);
    for (const key of keys) this.remember(this.options.keyPrefix + key, results.get(key) ?? null);
    return results;
  }

  private async resolveShared(shared: SharedEntities, keys: string[], deadline: Deadline): Promise<Map<string, Outcome<V>>> {
    const { source, observe } = this.options;
    let entries: Array<SharedEntry | undefined>;
    try {
      entries = await shared.read(keys);
    } catch (err) {
      shared.noteFailure("cache read", err);
      return this.fetchAndRemember(keys, deadline);
    }
    const out = new Map<string, Outcome<V>>();
    const missing: string[] = [];
    const now = Date.now();
    keys.forEach((key, i) => {
      const entry = entries[i];
      if (entry !== undefined) this.rememberShared(key, entry, now);
      if (entry !== undefined && now < entry.f) out.set(key, entry.v as V | null);
      else missing.push(key);
    });
    const hits = keys.length - missing.length;
    if (hits > 0) {
      deadline.usage.cacheHits += hits;
      observe?.(source, "shared_hit", hits);
    }
    if (missing.length === 0) return out;

    const token = shared.newToken();
    let holders: string[];
    try {
      holders = await shared.claim(missing, token, CLAIM_LEASE_MS);
    } catch (err) {
      shared.noteFailure("flight claim", err);
      for (const [k, v] of await this.fetchAndRemember(missing, deadline)) out.set(k, v);
      return out;
    }
    const mine: string[] = [];
    const theirs: Array<{ key: string; holder: string }> = [];
    missing.forEach((key, i) => (holders[i] === token ? mine.push(key) : theirs.push({ key, holder: holders[i]! })));
    if (theirs.length > 0) observe?.(source, "shared_joined", theirs.length);
    const [fetched, awaited] = await Promise.all([
      mine.length > 0 ? this.fetchAndPublish(shared, mine, token, deadline) : new Map<string, Outcome<V>>(),
      theirs.length > 0 ? this.awaitOtherReplica(shared, theirs, deadline) : new Map<string, Outcome<V>>(),
    ]);
    for (const m of [fetched, awaited]) for (const [k, v] of m) out.set(k, v);
    return out;
  }

  /** This replica's flight: ask the vendor, then write the outcomes to Redis and clear the claims, in one round trip. */
  private async fetchAndPublish(
    shared: SharedEntities,
    keys: string[],
    token: string,
    deadline: Deadline,
  ): Promise<Map<string, Outcome<V>>> {
    const renewal = setInterval(() => {
      shared.renew(keys, token, CLAIM_LEASE_MS).catch((err: unknown) => shared.noteFailure("flight lease", err));
    }, CLAIM_LEASE_MS / 3);
    renewal.unref();
    const results = await this.options
      .fetchMany(keys, deadline)
      .catch((err: unknown) => new Map(keys.map((k) => [k, asError(err)] as const)))
      .finally(() => clearInterval(renewal));
    const { freshMs, negativeMs, staleIfErrorMs, keyPrefix } = this.options;
    const entries: Array<{ key: string; json: string; ttlMs: number }> = [];
    const failures: Array<{ key: string; error: Error }> = [];
    const now = Date.now();
    for (const key of keys) {
      const outcome = results.get(key) ?? null;
      if (outcome instanceof Error) {
        // A failure of our own lifetime (deadline, or every waiter gone) is not the vendor's answer: other
        // replicas waiting on this flight see the claim cleared without an outcome and fetch for themselves.
        if (!deadline.expired()) failures.push({ key, error: outcome });
        continue;
      }
      const valueJson = JSON.stringify(outcome);
      const freshFor = outcome === null ? negativeMs : freshMs;
      const keepFor = outcome === null ? negativeMs : freshMs + staleIfErrorMs;
      entries.push({
        key,
        json: entryJson(now, now + freshFor, now + keepFor, token, valueJson),
        ttlMs: Math.max(keepFor, FLIGHT_HOLD_MS),
      });
      this.remember(keyPrefix + key, outcome, valueJson.length);
    }
    try {
      await shared.publish(token, entries, failures, FLIGHT_HOLD_MS, keys);
    } catch (err) {
      shared.noteFailure("cache write", err);
    }
    return results;
  }

  /**
   * Another replica holds these keys' flight: poll Redis for its outcome (5 ms, growing to 50 ms). A key
   * whose claim disappears without an outcome (that replica died, or Redis lost it) is fetched here.
   */
  private async awaitOtherReplica(
    shared: SharedEntities,
    claimed: ReadonlyArray<{ key: string; holder: string }>,
    deadline: Deadline,
  ): Promise<Map<string, Outcome<V>>> {
    const out = new Map<string, Outcome<V>>();
    let pending = [...claimed];
    const orphans: string[] = [];
    let pollMs = 5;
    while (pending.length > 0) {
      if (!shared.available || deadline.remaining() <= pollMs) break;
      await deadline.wait(pollMs);
      if (deadline.expired()) break;
      pollMs = Math.min(50, Math.ceil(pollMs * 1.5));
      let views;
      try {
        views = await shared.view(pending.map((p) => p.key));
      } catch (err) {
        shared.noteFailure("flight wait", err);
        break;
      }
      const now = Date.now();
      const still: typeof pending = [];
      pending.forEach((p, i) => {
        const view = views[i]!;
        if (view.entry !== undefined && (view.entry.t === p.holder || now < view.entry.f)) {
          this.rememberShared(p.key, view.entry, now);
          out.set(p.key, view.entry.v as V | null);
        } else if (view.failure !== undefined && view.failure.flightToken === p.holder) {
          out.set(p.key, view.failure);
        } else if (view.holder === p.holder) {
          still.push(p);
        } else {
          orphans.push(p.key);
        }
      });
      pending = still;
    }
    // Redis went away or the deadline is near: whatever is still open is fetched here, within the deadline.
    const rest = [...orphans, ...pending.map((p) => p.key)];
    if (rest.length > 0 && deadline.expired()) for (const k of rest) out.set(k, deadline.lapsed(this.options.source));
    else if (rest.length > 0) for (const [k, v] of await this.fetchAndRemember(rest, deadline)) out.set(k, v);
    return out;
  }

  /** Copies an entry read from Redis into the in-process layer, with its own times (stale ones too, for stale-if-error). */
  private rememberShared(key: string, entry: SharedEntry, now: number): void {
    const cache = this.options.cache;
    if (!cache || entry.k <= now || (entry.k === entry.s && entry.f === entry.s)) return;
    cache.put(this.options.keyPrefix + key, { value: entry.v, storedAt: entry.s, freshUntil: entry.f }, entry.k - now);
  }

  private remember(cacheKey: string, outcome: Outcome<V>, size?: number): void {
    const { cache, freshMs, negativeMs, staleIfErrorMs } = this.options;
    if (!cache || outcome instanceof Error) return;
    if (outcome === null) {
      if (negativeMs > 0) cache.set(cacheKey, null, negativeMs, negativeMs, size);
      return;
    }
    if (freshMs > 0 || staleIfErrorMs > 0) cache.set(cacheKey, outcome, freshMs, freshMs + staleIfErrorMs, size);
  }

  private orStale(key: string, outcome: Outcome<V>, onStale: (note: StaleNote) => void): Outcome<V> {
    if (!(outcome instanceof Error) || this.options.staleIfErrorMs <= 0 || !vendorFailure(outcome)) return outcome;
    const entry = this.options.cache?.get(this.options.keyPrefix + key);
    if (entry === undefined || entry.value === null) return outcome;
    const ageMs = Date.now() - entry.storedAt;
    if (ageMs > this.options.freshMs + this.options.staleIfErrorMs) return outcome;
    const reason =
      outcome instanceof UpstreamError && outcome.status !== undefined ? `HTTP ${outcome.status}` : (outcome as UpstreamError).kind;
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
