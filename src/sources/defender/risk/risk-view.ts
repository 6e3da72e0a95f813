import { createHash } from "node:crypto";
import type { UnknownEnumReporter } from "../../../graphql/normalize";
import type { DefenderAlertDto } from "../dto";
import { SEVERITY_RANK } from "../alerts/alert-relations.resolver";
import { AlertSeverity, AlertStatus } from "../alerts/alert.enums";
import { toDefenderAlert } from "../alerts/alert.mapper";
import type { AlertRelatedUser } from "../alerts/alert.type";
import type { RiskListing } from "./risk.listing";

/**
 * The ranking of `defenderUsersAtRisk` (and `peopleAtRisk`), from the kept alert window: alerts since
 * `since` with at least `minSeverity` and, when given, one of `statuses`, grouped by related user, ordered
 * highest severity first, then more open alerts, then the latest alert, then id. Computed once per
 * listing and arguments, then kept with the listing, so paging sorts once.
 */
export interface RiskRow {
  /** `domain\user`, lower-cased (bare when the alerts name no domain). */
  id: string;
  user: AlertRelatedUser;
  /** The matching alerts, most recently updated first. */
  alerts: DefenderAlertDto[];
  /** Every alert of the user in the window (its User evidence links the account: people/). */
  all: DefenderAlertDto[];
  highestSeverity: AlertSeverity;
  alertCount: number;
  openAlertCount: number;
  /** Latest lastUpdateTime among the matching alerts (ms), null when none has one. */
  lastAlertTime: number | null;
}

/** A row's place in the order: severity rank, open alerts, latest alert time (-1 for none); then the id. */
export type RiskKey = [number, number, number];

export interface RiskView {
  rows: RiskRow[];
  digest: string;
}

export interface RiskArgs {
  since: Date;
  minSeverity: AlertSeverity;
  statuses: readonly AlertStatus[] | null | undefined;
}

const OPEN = new Set<AlertStatus>([AlertStatus.NEW, AlertStatus.IN_PROGRESS]);
/** Views kept per listing (each an array of rows). */
const MAX_VIEWS = 32;

export function riskKey(row: RiskRow): RiskKey {
  return [SEVERITY_RANK[row.highestSeverity], row.openAlertCount, row.lastAlertTime ?? -1];
}

/** The total order: negative when (a, aId) comes first. */
export function compareRisk(a: RiskKey, aId: string, b: RiskKey, bId: string): number {
  return b[0] - a[0] || b[1] - a[1] || b[2] - a[2] || (aId < bId ? -1 : aId > bId ? 1 : 0);
}

/** The arguments in one canonical form (statuses as a sorted set), digested: cursors carry it. */
export function riskDigest(args: RiskArgs, extra: Record<string, unknown> = {}): string {
  const statuses = args.statuses && args.statuses.length > 0 ? [...new Set(args.statuses)].sort() : null;
  return createHash("sha256")
    .update(JSON.stringify({ since: args.since.getTime(), minSeverity: args.minSeverity, statuses, ...extra }))
    .digest("base64url")
    .slice(0, 16);
}

const time = (a: DefenderAlertDto) => (typeof a.lastUpdateTime === "string" ? Date.parse(a.lastUpdateTime) : NaN);

export function riskViewOf(listing: RiskListing, args: RiskArgs, report: UnknownEnumReporter): RiskView {
  const digest = riskDigest(args);
  const kept = listing.views.get(`risk:${digest}`) as RiskView | undefined;
  if (kept !== undefined) return kept;
  const start = args.since.getTime();
  const least = SEVERITY_RANK[args.minSeverity];
  const statuses = args.statuses && args.statuses.length > 0 ? new Set(args.statuses) : undefined;
  const rows: RiskRow[] = [];
  for (const [id, { user, alerts: all }] of listing.byUser) {
    const alerts = all
      .filter((dto) => {
        if (!(time(dto) >= start)) return false;
        const a = toDefenderAlert(dto, report);
        return SEVERITY_RANK[a.severity] >= least && (statuses === undefined || statuses.has(a.status));
      })
      .sort((a, b) => (time(b) || 0) - (time(a) || 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    if (alerts.length === 0) continue;
    let highest = AlertSeverity.UNSPECIFIED;
    let open = 0;
    for (const dto of alerts) {
      const a = toDefenderAlert(dto, report);
      if (SEVERITY_RANK[a.severity] > SEVERITY_RANK[highest]) highest = a.severity;
      if (OPEN.has(a.status)) open++;
    }
    const latest = time(alerts[0]!);
    rows.push({
      id,
      user,
      alerts,
      all,
      highestSeverity: highest,
      alertCount: alerts.length,
      openAlertCount: open,
      lastAlertTime: Number.isNaN(latest) ? null : latest,
    });
  }
  const keys = new Map(rows.map((r) => [r, riskKey(r)] as const));
  rows.sort((a, b) => compareRisk(keys.get(a)!, a.id, keys.get(b)!, b.id));
  const view: RiskView = { rows, digest };
  if (listing.views.size >= MAX_VIEWS) listing.views.delete(listing.views.keys().next().value as string);
  listing.views.set(`risk:${digest}`, view);
  return view;
}

/** Index of the first row ordered after a cursor's position (binary search: the rows are in order). */
export function startAfter<R>(rows: readonly R[], rowOf: (r: R) => RiskRow, after: { key: RiskKey; id: string } | undefined): number {
  if (after === undefined) return 0;
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const row = rowOf(rows[mid]!);
    if (compareRisk(riskKey(row), row.id, after.key, after.id) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
