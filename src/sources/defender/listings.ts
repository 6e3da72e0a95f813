import type { Deadline } from "../../upstream/deadline";
import { DEFENDER_MAX_TOP } from "./client";
import type { ODataPage } from "./dto";

export { Listings, type ListingsOptions } from "../../store/listings";

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
