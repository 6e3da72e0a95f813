import type { ListingBudget } from "../../store/listing-budget";
import type { Deadline } from "../../upstream/deadline";
import { DEFENDER_MAX_TOP } from "./client";
import type { ODataPage } from "./dto";

/**
 * Whole vendor listings a plan reads at once (the machine fleet, the alert windows), kept in process while
 * fresh: one fetch at a time per listing (requests asking meanwhile join it), at most one fetch per listing
 * per request even with caching off, and failures never kept. What is kept counts against the process's
 * listing budget (LISTINGS_MAX_MB, store/listing-budget.ts), shared by every listing of every source.
 *
 * With `reuseMs`, a listing past its freshness stays kept that much longer as the base of a refresh: the
 * fetch is then handed the previous listing (alert windows ask Defender only what changed since it).
 *
 * In process only: with the shared tier, the per-entity entries a listing primes are what replicas share.
 */
export interface ListingsOptions<I> {
  /** Its part of the budget's keys ("fleet", "risk", …): several Listings share one budget. */
  name: string;
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
}

export class Listings<I> {
  /** Keys kept, oldest first (maxKept). */
  private readonly keys = new Set<string>();
  /** Listings being fetched, with the request whose deadline and lifetime the fetch runs under. */
  private readonly inflight = new Map<string, { promise: Promise<I>; owner: Deadline }>();
  private readonly perRequest = new WeakMap<Deadline, Map<string, Promise<I>>>();
  /** Keys whose last listing was larger than the whole budget (said once per listing on the plan log). */
  readonly tooLarge = new Set<string>();

  constructor(private readonly o: ListingsOptions<I>) {}

  private slot(key: string): string {
    return `${this.o.name}|${key}`;
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
    else if (flight !== undefined && !flight.owner.expired()) promise = join(flight, deadline);
    else {
      const base = (this.o.reuseMs ?? 0) > 0 ? this.previous(key) : undefined;
      const started: Promise<I> = fetch(base).then(
        (value) => {
          if (this.inflight.get(key)?.promise === started) this.inflight.delete(key);
          this.put(key, value, Date.now() + this.o.ttlMs);
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
}

/**
 * Another request's listing fetch, joined: it goes on while this request waits for it (its own request may
 * have answered already), and this request stops waiting at its own deadline or end.
 */
function join<I>(flight: { promise: Promise<I>; owner: Deadline }, deadline: Deadline): Promise<I> {
  if (flight.owner === deadline) return flight.promise;
  const release = flight.owner.keepAliveFor(deadline);
  const joined = deadline.race(flight.promise, "DEFENDER");
  joined.then(release, release);
  return joined;
}

/** Vendor calls a request has spent per plan group, so that many small batches of one request cannot add up past a listing. */
export class RequestSpend {
  private readonly spent = new WeakMap<Deadline, Map<string, number>>();

  of(deadline: Deadline, group: string): number {
    return this.spent.get(deadline)?.get(group) ?? 0;
  }

  add(deadline: Deadline, group: string, calls: number): void {
    let map = this.spent.get(deadline);
    if (map === undefined) this.spent.set(deadline, (map = new Map()));
    map.set(group, (map.get(group) ?? 0) + calls);
  }
}

/**
 * The plan rule both batched relations follow: list when the listing is expected to cost fewer calls than
 * asking per key would (counting what this request already spent per key in the same group), and only when
 * the listing is expected to fit in `maxPages`. Ties go per key: smaller answers.
 */
export function listingPays(expectedPages: number, maxPages: number, spentPerKey: number, perKeyCalls: number): boolean {
  return expectedPages <= maxPages && expectedPages < spentPerKey + perKeyCalls;
}

/**
 * Reads a listing page by page (`@odata.nextLink`), at most `maxPages`; `complete` says whether it ended
 * within them. Both plans list this way: the fleet and an alert window.
 */
export async function readPages<T>(
  first: () => Promise<ODataPage<T>>,
  next: (nextLink: string) => Promise<ODataPage<T>>,
  maxPages: number,
): Promise<{ items: T[]; pages: number; complete: boolean }> {
  let page = await first();
  const items = [...page.items];
  let pages = 1;
  while (page.nextLink !== undefined && pages < maxPages) {
    page = await next(page.nextLink);
    items.push(...page.items);
    pages++;
  }
  return { items, pages, complete: page.nextLink === undefined };
}

/** Pages a listing is expected to take, from its size when last read (Infinity: it outgrew its cap); 1 before. */
export function expectedPagesOf(lastCount: number | undefined): number {
  return lastCount === undefined ? 1 : Math.max(1, Math.ceil(lastCount / DEFENDER_MAX_TOP));
}
