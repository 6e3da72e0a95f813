import { openCursor, sealCursor } from "../../../graphql/signed-cursor";
import type { RiskKey } from "./risk-view";

/**
 * `defenderUsersAtRisk` and `peopleAtRisk` cursors, sealed by graphql/signed-cursor.ts under the Defender
 * cursor key: the last row's rank key and id (a keyset position, so a refreshed listing neither repeats
 * nor skips an account) and the digest of the arguments. `t` tells the two lists (and defenderAlerts and
 * defenderMachines cursors, sealed under the same key) apart.
 */
const VERSION = 1;
const MAX_ID = 300;

export type RiskList = "users-at-risk" | "people-at-risk";

export function encodeRiskCursor(list: RiskList, key: RiskKey, id: string, digest: string, secret: Buffer): string {
  return sealCursor({ t: list, v: VERSION, f: digest, k: key, i: id }, secret);
}

export function decodeRiskCursor(
  list: RiskList,
  cursor: string,
  digest: string,
  secret: Buffer,
): { key: RiskKey; id: string } | "invalid" | "other-view" {
  const data = openCursor(cursor, secret);
  if (data === undefined) return "invalid";
  const { t, v, f, k, i } = data;
  const keyOk = Array.isArray(k) && k.length === 3 && k.every((n) => typeof n === "number" && Number.isFinite(n));
  if (t !== list || v !== VERSION || typeof f !== "string" || typeof i !== "string" || i === "" || i.length > MAX_ID || !keyOk)
    return "invalid";
  if (f !== digest) return "other-view";
  return { key: k as RiskKey, id: i };
}
