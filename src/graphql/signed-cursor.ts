import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Opaque, stateless list cursors: `base64url(JSON).base64url(MAC)`, the MAC an HMAC-SHA256 (node:crypto,
 * cut to 16 bytes) under a key each source derives from its own credentials. Stateless, so a cursor works
 * after a restart and on every replica; the MAC refuses altered cursors and cursors minted under another
 * key (another tenant or account). Hand-written because it is ten lines over node:crypto; what a cursor
 * holds, and how each field is checked, stays with the list that mints it.
 */
const MAC_BYTES = 16;

export function sealCursor(data: Record<string, unknown>, key: Buffer): string {
  const payload = Buffer.from(JSON.stringify(data)).toString("base64url");
  return `${payload}.${mac(payload, key).toString("base64url")}`;
}

/** The cursor's JSON object when its MAC holds under `key`; undefined for anything else. */
export function openCursor(cursor: string, key: Buffer): Record<string, unknown> | undefined {
  const [payload, signature, extra] = cursor.split(".");
  if (payload === undefined || signature === undefined || extra !== undefined) return undefined;
  const given = Buffer.from(signature, "base64url");
  if (given.length !== MAC_BYTES || !timingSafeEqual(given, mac(payload, key))) return undefined;
  try {
    const data: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    return typeof data === "object" && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function mac(payload: string, key: Buffer): Buffer {
  return createHmac("sha256", key).update(payload).digest().subarray(0, MAC_BYTES);
}
