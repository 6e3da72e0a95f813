import { LRUCache } from "lru-cache";

/** A kept listing: served as is until `freshUntil`, a base for a refresh (a delta) until the budget lets it go. */
export interface KeptListing {
  value: unknown;
  freshUntil: number;
  bytes: number;
}

/**
 * The one memory bound of every listing kept in process (the Defender fleet, the alert windows of the fleet
 * views, the counts of filtered alert sets, ESET's user list): `LISTINGS_MAX_MB`, least recently used
 * listing dropped first, the same LRU (lru-cache, sized per entry) as the entity cache's `CACHE_MAX_MB`
 * next to it. The two bounds together are what usergraph keeps of the vendors' data; the entries a listing
 * primes into the entity stores (users', machines' alerts) count in `CACHE_MAX_MB` as any entry does.
 *
 * A listing larger than the whole budget is not kept: the requests that listed or joined it are answered
 * from it, and the next request lists again (its plan log line says so).
 */
export class ListingBudget {
  private readonly lru: LRUCache<string, KeptListing>;
  /** Put before every key: a tenant's view of the one budget (see `scoped`); "" for the process's own. */
  private readonly prefix: string;

  constructor(
    readonly maxBytes: number,
    within?: { lru: LRUCache<string, KeptListing>; prefix: string },
  ) {
    this.lru =
      within?.lru ??
      new LRUCache<string, KeptListing>({
        maxSize: maxBytes,
        sizeCalculation: (entry) => Math.max(1, entry.bytes),
      });
    this.prefix = within?.prefix ?? "";
  }

  /**
   * The same budget (one bound, one LRU) under keys of their own: a tenant's listings are named like every
   * other tenant's ("fleet", an alert window's hours), so each tenant's sources get a view whose keys carry
   * the tenant, and one tenant's listing is never another's (src/sources/clients.ts).
   */
  scoped(prefix: string): ListingBudget {
    return new ListingBudget(this.maxBytes, { lru: this.lru, prefix: `${this.prefix}${prefix}` });
  }

  get(key: string): KeptListing | undefined {
    return this.lru.get(this.prefix + key);
  }

  /** Keeps a listing for `keepMs`; false when it alone is larger than the budget (then nothing is kept). */
  set(key: string, entry: KeptListing, keepMs: number): boolean {
    if (entry.bytes > this.maxBytes) {
      this.lru.delete(this.prefix + key);
      return false;
    }
    this.lru.set(this.prefix + key, entry, { ttl: Math.max(1, keepMs) });
    return true;
  }

  delete(key: string): void {
    this.lru.delete(this.prefix + key);
  }

  /** Approximate bytes kept now (by every view of the budget). */
  get bytes(): number {
    return this.lru.calculatedSize;
  }

  get entries(): number {
    return this.lru.size;
  }
}

/**
 * Approximate heap bytes of a listing's items, from the JSON length of up to 64 of them spread over the
 * list, times the count. A JSON character becomes about 3 bytes of heap once parsed into objects with
 * their hidden classes, boxed numbers and UTF-16 strings (measured by bench:quota: a 30,052-machine fleet
 * of 45 MB JSON raised the gateway's RSS by about 140 MB). Sampled so that sizing a 30,000-item listing
 * does not serialise it whole.
 */
export function approximateBytes(items: readonly unknown[], perItemExtra = 0): number {
  if (items.length === 0) return 64;
  const step = Math.max(1, Math.floor(items.length / 64));
  let chars = 0;
  let sampled = 0;
  for (let i = 0; i < items.length && sampled < 64; i += step, sampled++) {
    try {
      chars += JSON.stringify(items[i], (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))?.length ?? 4;
    } catch {
      chars += 1024;
    }
  }
  return Math.ceil((chars / sampled) * 3 + perItemExtra) * items.length + 1024;
}
