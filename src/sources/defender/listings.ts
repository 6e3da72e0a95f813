import type { Deadline } from "../../upstream/deadline";
import { DEFENDER_MAX_TOP } from "./client";
import type { ODataPage } from "./dto";

/**
 * Whole vendor listings a plan reads at once (the machine fleet, the alerts of a time window), kept in
 * process while fresh: one fetch at a time per listing (requests asking meanwhile join it), at most one
 * fetch per listing per request even with caching off, and failures never kept.
 *
 * In process only, on purpose: a listing is up to 10,000 entities a page. With the shared tier, the
 * per-entity entries a listing yields are what replicas share (primed into the entity stores); a replica
 * without the listing in hand asks per entity or lists for itself.
 */
export class Listings<I> {
  private readonly fresh = new Map<string, { until: number; value: I }>();
  /** Listings being fetched, with the request whose deadline and lifetime the fetch runs under. */
  private readonly inflight = new Map<string, { promise: Promise<I>; owner: Deadline }>();
  private readonly perRequest = new WeakMap<Deadline, Map<string, Promise<I>>>();

  constructor(
    private readonly ttlMs: number,
    /** Most listings kept at once (alert windows move on every hour). */
    private readonly maxKept = 8,
    /** What is kept while fresh: the listing itself, or a slimmer form of it (the request that listed has it whole). */
    private readonly keep: (value: I) => I = (value) => value,
  ) {}

  /** A fresh listing, or undefined. */
  peek(key: string): I | undefined {
    const entry = this.fresh.get(key);
    if (entry !== undefined && Date.now() < entry.until) return entry.value;
    if (entry !== undefined) this.fresh.delete(key);
    return undefined;
  }

  /** Whether the listing is being fetched (by any request): joining it costs nothing. */
  fetching(key: string): boolean {
    return this.inflight.has(key);
  }

  /** Drops a kept listing, so the next get() fetches it afresh. */
  forget(key: string): void {
    this.fresh.delete(key);
  }

  /** Whether this request has fetched (or is fetching) the listing already. */
  ofRequest(key: string, deadline: Deadline): Promise<I> | undefined {
    return this.perRequest.get(deadline)?.get(key);
  }

  get(key: string, deadline: Deadline, fetch: () => Promise<I>): Promise<I> {
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
      const started: Promise<I> = fetch().then(
        (value) => {
          if (this.inflight.get(key)?.promise === started) this.inflight.delete(key);
          if (this.ttlMs > 0) {
            this.fresh.delete(key);
            if (this.fresh.size >= this.maxKept) this.fresh.delete(this.fresh.keys().next().value as string);
            this.fresh.set(key, { until: Date.now() + this.ttlMs, value: this.keep(value) });
          }
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
