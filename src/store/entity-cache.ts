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

  /** `size`, when the caller already knows the value's serialised length, spares serialising it again. */
  set(key: string, value: unknown, freshMs: number, keepMs: number, size?: number): void {
    const now = Date.now();
    this.put(key, { value, storedAt: now, freshUntil: now + freshMs }, keepMs, size);
  }

  /** Stores an entry made elsewhere (read from the shared tier), keeping its own times. */
  put(key: string, entry: CacheEntry, keepMs: number, size?: number): void {
    this.lru.set(key, entry, { ttl: Math.max(1, keepMs), size: size === undefined ? undefined : 2 * (key.length + size) + 64 });
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
