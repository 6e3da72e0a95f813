import { openCursor, sealCursor } from "../../../graphql/signed-cursor";
import type { SortKey } from "./fleet-view";

/**
 * `defenderMachines` cursors, sealed by graphql/signed-cursor.ts: the last machine's sort key and id (a
 * keyset position, not an offset, so a page continues where the last one ended even when the listing was
 * refreshed in between and machines came or went before it) and the digest of the filter and order. `t`
 * tells them apart from defenderAlerts cursors, which are sealed under the same key.
 */
const KIND = "machines";
const VERSION = 1;
const MAX_TEXT = 300;

export function encodeCursor(key: SortKey, id: string, digest: string, secret: Buffer): string {
  return sealCursor({ t: KIND, v: VERSION, f: digest, k: key, i: id }, secret);
}

export type CursorProblem = "invalid" | "other-view";

export function decodeCursor(cursor: string, digest: string, secret: Buffer): { key: SortKey; id: string } | CursorProblem {
  const data = openCursor(cursor, secret);
  if (data === undefined) return "invalid";
  const { t, v, f, k, i } = data;
  const keyOk = k === null || (typeof k === "number" && Number.isFinite(k)) || (typeof k === "string" && k.length <= MAX_TEXT);
  if (t !== KIND || v !== VERSION || typeof f !== "string" || typeof i !== "string" || i === "" || i.length > MAX_TEXT || !keyOk)
    return "invalid";
  if (f !== digest) return "other-view";
  return { key: k, id: i };
}
