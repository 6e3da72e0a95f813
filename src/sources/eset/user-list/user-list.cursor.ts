import { createHash } from "node:crypto";
import { openCursor, sealCursor } from "../../../graphql/signed-cursor";
import type { EsetListPosition } from "./user-pages";
import type { EsetUserListFilter } from "../dto";

/**
 * `esetUserList` cursors, sealed by graphql/signed-cursor.ts. The JSON is versioned and self-contained —
 * ESET's page token to ask for, how many users of that page are already behind, and a digest of the filter
 * — so a cursor needs no state in usergraph: it survives restarts and works on every replica. The MAC
 * (HMAC-SHA256 under a key derived from the ESET account) refuses altered cursors and cursors minted for
 * another ESET account, so a page token reaches ESET only from the list it came from.
 */
const VERSION = 1;
/** ESET's pageToken is at most 128 characters. */
const MAX_PAGE_TOKEN = 128;
/** A position never skips more than a whole vendor page. */
const MAX_SKIP = 1000;

/** A short digest of the filter as sent to ESET: a cursor continues only the list it came from. */
export function filterDigest(filter: EsetUserListFilter): string {
  const canonical = JSON.stringify(Object.entries(filter).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return createHash("sha256").update(canonical).digest("base64url").slice(0, 16);
}

export function encodeCursor(position: EsetListPosition, digest: string, key: Buffer): string {
  return sealCursor({ v: VERSION, t: position.pageToken, s: position.skip, f: digest }, key);
}

/** Why a cursor was refused: it is not one of ours (or was altered), or it belongs to another filter. */
export type CursorProblem = "invalid" | "other-filter";

export function decodeCursor(cursor: string, digest: string, key: Buffer): EsetListPosition | CursorProblem {
  const data = openCursor(cursor, key);
  if (data === undefined) return "invalid";
  const { v, t, s, f } = data;
  if (v !== VERSION || typeof t !== "string" || t.length > MAX_PAGE_TOKEN || typeof f !== "string") return "invalid";
  if (typeof s !== "number" || !Number.isInteger(s) || s < 0 || s > MAX_SKIP) return "invalid";
  if (f !== digest) return "other-filter";
  return { pageToken: t, skip: s };
}
