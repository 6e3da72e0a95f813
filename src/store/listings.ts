import type { Deadline } from "../upstream/deadline";
import type { SourceName } from "../upstream/source";
import type { ListingBudget } from "./listing-budget";
import type { SharedListings } from "./shared-listings";

/**
 * Whole vendor listings a plan reads at once (the machine fleet, the alert windows), kept in process while
 * fresh: one fetch at a time per listing (requests asking meanwhile join it), at most one fetch per listing
 * per request even with caching off, and failures never kept. What is kept counts against the process's
 * listing budget (LISTINGS_MAX_MB, store/listing-budget.ts), shared by every listing of every source.
 *
 * With `reuseMs`, a listing past its freshness stays kept that much longer as the base of a refresh: the
 * fetch is then handed the previous listing (alert windows ask Defender only what changed since it).
 *
 * With Redis (`shared`), a listing is shared across replicas too (store/shared-listings.ts): a replica
 * without it fresh in process reads Redis first; when Redis has none fresh, one replica claims the
 * listing and lists while the others wait for its entry (and list for themselves only when its claim
 * lapses without one, or Redis fails).
 */
export interface ListingsOptions<I> {
  /** Its part of the budget's keys ("fleet", "risk", …): several Listings share one budget. */
  name: string;
  /** Whose listing it is (the error a request gets when its lifetime ends while it waits). */
  source: SourceName;
  /** How long a listing is served as is. 0: nothing is kept. */
  ttlMs: number;
  budget: ListingBudget;
  /** Approximate heap bytes of what is kept (store/listing-budget.ts approximateBytes). */
  bytes: (value: I) => number;
  /** Most listings of this kind kept at once (alert windows move on every hour). */
  maxKept?: number;
  /** What is kept while fresh: the listing itself, or a slimmer form of it (the request that listed has it whole). */
  keep?: (value: I) => I;
  /** How long past `ttlMs` a listing stays kept as the base of a refresh (0: none). */
  reuseMs?: number;
  /** With Redis: the listing shared across replicas, one replica listing while the others wait for it. */
  shared?: {
    store: SharedListings;
    /** The listing as JSON can carry it (the vendor's entities and the listing's facts, no derived index). */
    toWire: (value: I) => unknown;
    /** The listing rebuilt from its wire form (indexes and groups recomputed here). */
    fromWire: (wire: unknown) => I;
  };
}

/** How often a replica waiting for another's listing looks whether its claim is gone. */
const SHARED_POLL_MS = 50;

/** Numbers each Listings' part of the budget (see `space`). */
let instances = 0;

export class Listings<I> {
  /**
   * This object's part of the budget's keys. The budget is one LRU for the whole process, and `name` is the
   * same for every tenant's (and every credentials') listing of a kind: without a part of its own, a tenant's
   * fleet would be served to another tenant's callers from the budget ("fleet|fleet"). Each source of each
   * tenant makes its own Listings, so what one kept is found by it alone.
   */
  private readonly space = `${++instances}`;
  /** Keys kept, oldest first (maxKept). */
  private readonly keys = new Set<string>();
  /** Listings being fetched, with the request whose deadline and lifetime the fetch runs under. */
  private readonly inflight = new Map<string, { promise: Promise<I>; owner: Deadline }>();
  private readonly perRequest = new WeakMap<Deadline, Map<string, Promise<I>>>();
  /** Keys whose last listing was larger than the whole budget (said once per listing on the plan log). */
  readonly tooLarge = new Set<string>();
  /** Listings read from Redis (another replica listed them), for the plan log. */
  private readonly fromRedis = new WeakSet<object>();

  constructor(private readonly o: ListingsOptions<I>) {}

  private slot(key: string): string {
    return `${this.space}|${this.o.name}|${key}`;
  }

  /** A fresh listing, or undefined. */
  peek(key: string): I | undefined {
    const entry = this.o.budget.get(this.slot(key));
    if (entry !== undefined && Date.now() < entry.freshUntil) return entry.value as I;
    return undefined;
  }

  /** A kept listing, fresh or past it (a refresh's base), or undefined. */
  previous(key: string): I | undefined {
    return this.o.budget.get(this.slot(key))?.value as I | undefined;
  }

  /** Whether the listing is being fetched (by any request): joining it costs nothing. */
  fetching(key: string): boolean {
    return this.inflight.has(key);
  }

  /** Drops a kept listing, so the next get() fetches it afresh. */
  forget(key: string): void {
    this.o.budget.delete(this.slot(key));
    this.keys.delete(key);
  }

  /** Whether the listing was read from Redis rather than listed by this replica. */
  readFromRedis(value: I): boolean {
    return typeof value === "object" && value !== null && this.fromRedis.has(value);
  }

  /** Whether this request has fetched (or is fetching) the listing already. */
  ofRequest(key: string, deadline: Deadline): Promise<I> | undefined {
    return this.perRequest.get(deadline)?.get(key);
  }

  /** Keeps a listing read elsewhere (another replica's, through Redis) as if fetched here. */
  put(key: string, value: I, freshUntil: number): void {
    if (this.o.ttlMs <= 0) return;
    const kept = this.o.keep ? this.o.keep(value) : value;
    const maxKept = this.o.maxKept ?? Infinity;
    this.keys.delete(key);
    while (this.keys.size >= maxKept) {
      const oldest = this.keys.values().next().value as string;
      this.keys.delete(oldest);
      this.o.budget.delete(this.slot(oldest));
    }
    const ok = this.o.budget.set(
      this.slot(key),
      { value: kept, freshUntil, bytes: this.o.bytes(kept) },
      freshUntil - Date.now() + (this.o.reuseMs ?? 0),
    );
    if (ok) {
      this.keys.add(key);
      this.tooLarge.delete(key);
    } else this.tooLarge.add(key);
  }

  /**
   * The listing: this request's, a fresh one, the one being fetched (joined), or fetched now. `fetch` is
   * handed the kept listing past its freshness, when there is one (reuseMs), to refresh rather than relist.
   */
  get(key: string, deadline: Deadline, fetch: (previous: I | undefined) => Promise<I>): Promise<I> {
    let mine = this.perRequest.get(deadline);
    const known = mine?.get(key);
    if (known !== undefined) return known;
    const hit = this.peek(key);
    let promise: Promise<I>;
    const flight = this.inflight.get(key);
    if (hit !== undefined) promise = Promise.resolve(hit);
    // A fetch whose requests are all over is being abandoned: a newcomer fetches for itself.
    else if (flight !== undefined && !flight.owner.expired()) promise = join(flight, deadline, this.o.source);
    else {
      const base = (this.o.reuseMs ?? 0) > 0 ? this.previous(key) : undefined;
      const started: Promise<I> = this.read(key, deadline, base, fetch).then(
        ({ value, freshUntil }) => {
          if (this.inflight.get(key)?.promise === started) this.inflight.delete(key);
          this.put(key, value, freshUntil);
          return value;
        },
        (err: unknown) => {
          if (this.inflight.get(key)?.promise === started) this.inflight.delete(key);
          throw err;
        },
      );
      this.inflight.set(key, { promise: started, owner: deadline });
      promise = started;
    }
    if (mine === undefined) this.perRequest.set(deadline, (mine = new Map()));
    mine.set(key, promise);
    return promise;
  }

  /** The listing from Redis when another replica has it fresh, or fetched here (claimed in Redis while listing). */
  private async read(
    key: string,
    deadline: Deadline,
    base: I | undefined,
    fetch: (previous: I | undefined) => Promise<I>,
  ): Promise<{ value: I; freshUntil: number }> {
    const shared = this.o.shared;
    const own = async (previous: I | undefined) => ({ value: await fetch(previous), freshUntil: Date.now() + this.o.ttlMs });
    if (shared === undefined || this.o.ttlMs <= 0 || !shared.store.available) return own(base);
    const { store } = shared;
    const name = this.o.name;
    const fromRedis = async (): Promise<{ value: I; freshUntil: number; stale: boolean } | undefined> => {
      const entry = await store.read(name, key).catch(() => undefined);
      if (entry === undefined) return undefined;
      const value = shared.fromWire(entry.payload);
      if (typeof value === "object" && value !== null) this.fromRedis.add(value);
      return { value, freshUntil: entry.freshUntil, stale: Date.now() >= entry.freshUntil };
    };
    let found = await fromRedis();
    if (found !== undefined && !found.stale) return found;
    // A stale shared listing is as good a base for a refresh (a delta) as one kept here.
    const previous = base ?? ((this.o.reuseMs ?? 0) > 0 ? found?.value : undefined);
    for (;;) {
      let token: string | undefined;
      try {
        token = await store.claim(name, key);
      } catch {
        return own(previous); // Redis failed: list for ourselves, as without it.
      }
      if (token !== undefined) {
        const letGo = store.holdClaim(name, key, token);
        try {
          const mine = await own(previous);
          const wire = { listedAt: Date.now(), freshUntil: mine.freshUntil, payload: shared.toWire(mine.value) };
          await store.write(name, key, wire, mine.freshUntil - Date.now() + (this.o.reuseMs ?? 0)).catch(() => undefined);
          return mine;
        } finally {
          letGo();
          await store.release(name, key, token).catch(() => undefined);
        }
      }
      // Another replica is listing: wait until its claim is gone, then read what it wrote.
      const over = () => deadline.expired() || deadline.ended;
      while (!over()) {
        await deadline.wait(SHARED_POLL_MS);
        const held = await store.claimed(name, key).catch(() => false);
        if (!held) break;
      }
      if (over()) return own(previous);
      found = await fromRedis();
      if (found !== undefined && !found.stale) return found;
      // Its claim lapsed without a listing (it failed, or its request ended): claim it ourselves.
    }
  }
}

/**
 * Another request's listing fetch, joined: it goes on while this request waits for it (its own request may
 * have answered already), and this request stops waiting at its own deadline or end.
 */
function join<I>(flight: { promise: Promise<I>; owner: Deadline }, deadline: Deadline, source: SourceName): Promise<I> {
  if (flight.owner === deadline) return flight.promise;
  const release = flight.owner.keepAliveFor(deadline);
  const joined = deadline.race(flight.promise, source);
  joined.then(release, release);
  return joined;
}
