import { createHash } from "node:crypto";
import { openCursor, sealCursor } from "../../../graphql/signed-cursor";

/**
 * `defenderAlerts` cursors, sealed by graphql/signed-cursor.ts: the JSON holding how many alerts of the list
 * are behind (Defender pages with `$skip`) and a digest of the `$filter` text. Stateless, so they work after
 * a restart and on every replica; the MAC (HMAC-SHA256 under a key derived from the Defender app's
 * credentials) refuses altered cursors and cursors minted for another filter or another tenant.
 */
const VERSION = 1;
/** Far beyond any list a dashboard pages through; keeps $skip a plain small number. */
export const MAX_SKIP = 10_000_000;

export function filterDigest(odataFilter: string): string {
  return createHash("sha256").update(odataFilter).digest("base64url").slice(0, 16);
}

export function encodeCursor(skip: number, digest: string, key: Buffer): string {
  return sealCursor({ v: VERSION, s: skip, f: digest }, key);
}

export type CursorProblem = "invalid" | "other-filter";

export function decodeCursor(cursor: string, digest: string, key: Buffer): number | CursorProblem {
  const data = openCursor(cursor, key);
  if (data === undefined) return "invalid";
  const { v, s, f } = data;
  if (v !== VERSION || typeof f !== "string" || typeof s !== "number" || !Number.isInteger(s) || s < 0 || s > MAX_SKIP) return "invalid";
  if (f !== digest) return "other-filter";
  return s;
}
