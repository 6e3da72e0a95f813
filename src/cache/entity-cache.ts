import { LRUCache } from "lru-cache";

export interface CacheEntry {
  /** null records a 404 (negative caching). */
  value: unknown;
  storedAt: number;
  freshUntil: number;
}

export interface EntityCacheOptions {
  maxEntries: number;
  maxBytes: number;
}

/**
 * The in-process entity cache: LRU, bounded both in entries and in (approximate) bytes, each entry kept
 * for its fresh TTL plus the stale-if-error window. Freshness is decided by the store, not here.
 */
export class EntityCache {
  private readonly lru: LRUCache<string, CacheEntry>;

  constructor(options: EntityCacheOptions) {
    this.lru = new LRUCache<string, CacheEntry>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      // Strings count twice (UTF-16), plus a fixed overhead per entry for the wrapper and the Map slot.
      sizeCalculation: (entry, key) => 2 * (key.length + approximateJsonLength(entry.value)) + 64,
    });
  }

  get(key: string): CacheEntry | undefined {
    return this.lru.get(key);
  }

  set(key: string, value: unknown, freshMs: number, keepMs: number): void {
    const now = Date.now();
    this.lru.set(key, { value, storedAt: now, freshUntil: now + freshMs }, { ttl: Math.max(1, keepMs) });
  }

  get entries(): number {
    return this.lru.size;
  }

  get bytes(): number {
    return this.lru.calculatedSize;
  }
}

function approximateJsonLength(value: unknown): number {
  if (value === null || value === undefined) return 4;
  try {
    return JSON.stringify(value).length;
  } catch {
    return 1024;
  }
}
