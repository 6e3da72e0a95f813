import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/**
 * `defenderAlerts` cursors: `base64url(JSON).base64url(MAC)`, the JSON holding how many alerts of the list
 * are behind (Defender pages with `$skip`) and a digest of the `$filter` text. Stateless, so they work after
 * a restart and on every replica; the MAC (HMAC-SHA256 under a key derived from the Defender app's
 * credentials) refuses altered cursors and cursors minted for another filter or another tenant.
 */
const VERSION = 1;
const MAC_BYTES = 16;
/** Far beyond any list a dashboard pages through; keeps $skip a plain small number. */
export const MAX_SKIP = 10_000_000;

export function filterDigest(odataFilter: string): string {
  return createHash("sha256").update(odataFilter).digest("base64url").slice(0, 16);
}

export function encodeCursor(skip: number, digest: string, key: Buffer): string {
  const payload = Buffer.from(JSON.stringify({ v: VERSION, s: skip, f: digest })).toString("base64url");
  return `${payload}.${mac(payload, key).toString("base64url")}`;
}

export type CursorProblem = "invalid" | "other-filter";

export function decodeCursor(cursor: string, digest: string, key: Buffer): number | CursorProblem {
  const [payload, signature, extra] = cursor.split(".");
  if (payload === undefined || signature === undefined || extra !== undefined) return "invalid";
  const given = Buffer.from(signature, "base64url");
  if (given.length !== MAC_BYTES || !timingSafeEqual(given, mac(payload, key))) return "invalid";
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return "invalid";
  }
  const { v, s, f } = (typeof data === "object" && data !== null ? data : {}) as Record<string, unknown>;
  if (v !== VERSION || typeof f !== "string" || typeof s !== "number" || !Number.isInteger(s) || s < 0 || s > MAX_SKIP) return "invalid";
  if (f !== digest) return "other-filter";
  return s;
}

function mac(payload: string, key: Buffer): Buffer {
  return createHmac("sha256", key).update(payload).digest().subarray(0, MAC_BYTES);
}
