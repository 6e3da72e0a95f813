import { createHash } from "node:crypto";
import { EntityCache } from "../store/entity-cache";

/** The one in-process cache every source's stores share (bounded by entries and bytes). */
export function createCache(options: { maxEntries: number; maxBytes: number }): EntityCache {
  return new EntityCache({ maxEntries: options.maxEntries, maxBytes: options.maxBytes });
}

/** A short, one-way digest of whose credentials an entry was read with (never the credentials themselves). */
export function fingerprint(identity: string): string {
  return createHash("sha256").update(identity).digest("base64url").slice(0, 16);
}
