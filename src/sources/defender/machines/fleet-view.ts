import { createHash } from "node:crypto";
import { facetOf } from "../../../graphql/facet-count.type";
import type { UnknownEnumReporter } from "../../../graphql/normalize";
import { date, str, strList } from "../../../graphql/normalize";
import { OrderDirection } from "../../../graphql/order-direction";
import type { DefenderMachineDto } from "../dto";
import { defenderEnum } from "../enum-value";
import type { DefenderMachineFacets } from "./machine-connection.type";
import { DefenderMachineOrderField, type DefenderMachineFilter, type DefenderMachineOrder } from "./machine-filter.input";
import { MachineExposureLevel, MachineHealthStatus, MachineRiskScore } from "./machine.enums";
import type { FleetIndex } from "./machine.plan";

/**
 * defenderMachines' views of the fleet listing: filtered, ordered and counted by usergraph (one listing
 * serves every filter and order, at no further call). Each view is computed once per listing and kept
 * with it, so paging through a 30,000-machine fleet sorts it once, not once a page.
 */

/** What filters, orders and counts read of a machine, read off the wire once per listing. */
export interface FleetRow {
  dto: DefenderMachineDto;
  id: string;
  riskScore: MachineRiskScore;
  exposureLevel: MachineExposureLevel;
  healthStatus: MachineHealthStatus;
  osPlatform: string | null;
  /** Lower case, like every text below. */
  name: string | null;
  lastSeen: number | null;
  group: string | null;
  tags: string[];
}

/** A sort key: a number or a text, null when the machine has no value (those come last either way). */
export type SortKey = number | string | null;

export interface FleetView {
  /** Filtered and ordered. */
  rows: FleetRow[];
  field: DefenderMachineOrderField;
  descending: boolean;
  /** Ties the view's cursors to its filter and order. */
  digest: string;
  facets?: DefenderMachineFacets;
}

const RISK_RANK: Record<MachineRiskScore, number | null> = {
  [MachineRiskScore.UNSPECIFIED]: null,
  [MachineRiskScore.NONE]: 0,
  [MachineRiskScore.INFORMATIONAL]: 1,
  [MachineRiskScore.LOW]: 2,
  [MachineRiskScore.MEDIUM]: 3,
  [MachineRiskScore.HIGH]: 4,
};
const EXPOSURE_RANK: Record<MachineExposureLevel, number | null> = {
  [MachineExposureLevel.UNSPECIFIED]: null,
  [MachineExposureLevel.NONE]: 0,
  [MachineExposureLevel.LOW]: 1,
  [MachineExposureLevel.MEDIUM]: 2,
  [MachineExposureLevel.HIGH]: 3,
};

/** Most views kept per listing (each is an array of the matching rows). */
const MAX_VIEWS = 32;
const ROWS = "rows";

export function sortKey(row: FleetRow, field: DefenderMachineOrderField): SortKey {
  switch (field) {
    case DefenderMachineOrderField.RISK_SCORE:
      return RISK_RANK[row.riskScore];
    case DefenderMachineOrderField.EXPOSURE_LEVEL:
      return EXPOSURE_RANK[row.exposureLevel];
    case DefenderMachineOrderField.LAST_SEEN:
      return row.lastSeen;
    case DefenderMachineOrderField.COMPUTER_DNS_NAME:
      return row.name;
  }
}

const order = (a: string | number, b: string | number): number => (a < b ? -1 : a > b ? 1 : 0);

/** The view's total order on (sort key, id): no value last in either direction, then the key, then the id, both in the direction asked. */
export function compareKeys(a: SortKey, aId: string, b: SortKey, bId: string, descending: boolean): number {
  if ((a === null) !== (b === null)) return a === null ? 1 : -1;
  const c = (a === null || b === null ? 0 : order(a, b)) || order(aId, bId);
  return descending ? -c : c;
}

function rowsOf(index: FleetIndex, report: UnknownEnumReporter): FleetRow[] {
  let rows = index.views.get(ROWS) as FleetRow[] | undefined;
  if (rows === undefined) {
    rows = index.machines.map((dto) => ({
      dto,
      id: dto.id,
      riskScore: defenderEnum(dto.riskScore, "MachineRiskScore", MachineRiskScore, MachineRiskScore.UNSPECIFIED, report),
      exposureLevel: defenderEnum(
        dto.exposureLevel,
        "MachineExposureLevel",
        MachineExposureLevel,
        MachineExposureLevel.UNSPECIFIED,
        report,
      ),
      healthStatus: defenderEnum(dto.healthStatus, "MachineHealthStatus", MachineHealthStatus, MachineHealthStatus.UNSPECIFIED, report),
      osPlatform: str(dto.osPlatform),
      name: str(dto.computerDnsName)?.toLowerCase() ?? null,
      lastSeen: date(dto.lastSeen)?.getTime() ?? null,
      group: str(dto.rbacGroupName)?.toLowerCase() ?? null,
      tags: strList(dto.machineTags).map((t) => t.toLowerCase()),
    }));
    index.views.set(ROWS, rows);
  }
  return rows;
}

/** The filter and order in one canonical form: equal filters (lists in any order, text in any case) give the same text. */
function canonical(filter: DefenderMachineFilter | null | undefined, by: DefenderMachineOrder | null | undefined) {
  const set = <T extends string>(values: readonly T[] | null | undefined) =>
    values && values.length > 0 ? [...new Set(values)].sort() : null;
  const text = (v: string | null | undefined) => (v === null || v === undefined ? null : v.toLowerCase());
  return {
    riskScore: set(filter?.riskScore),
    exposureLevel: set(filter?.exposureLevel),
    healthStatus: set(filter?.healthStatus),
    osPlatform: text(filter?.osPlatform),
    nameContains: text(filter?.nameContains),
    lastSeenSince: filter?.lastSeenSince?.getTime() ?? null,
    group: text(filter?.rbacGroupName),
    tag: text(filter?.tag),
    field: by?.field ?? DefenderMachineOrderField.RISK_SCORE,
    descending: (by?.direction ?? OrderDirection.DESC) === OrderDirection.DESC,
  };
}

/** The digest a cursor carries: of the canonical filter and order. */
export function viewDigest(filter: DefenderMachineFilter | null | undefined, by: DefenderMachineOrder | null | undefined): string {
  return createHash("sha256")
    .update(JSON.stringify(canonical(filter, by)))
    .digest("base64url")
    .slice(0, 16);
}

/** The listing filtered and ordered as asked: computed on first use, then kept with the listing. */
export function viewOf(
  index: FleetIndex,
  filter: DefenderMachineFilter | null | undefined,
  by: DefenderMachineOrder | null | undefined,
  report: UnknownEnumReporter,
): FleetView {
  const c = canonical(filter, by);
  const digest = viewDigest(filter, by);
  const kept = index.views.get(`view:${digest}`) as FleetView | undefined;
  if (kept !== undefined) return kept;
  const risk = c.riskScore && new Set<string>(c.riskScore);
  const exposure = c.exposureLevel && new Set<string>(c.exposureLevel);
  const health = c.healthStatus && new Set<string>(c.healthStatus);
  const rows = rowsOf(index, report).filter(
    (r) =>
      (!risk || risk.has(r.riskScore)) &&
      (!exposure || exposure.has(r.exposureLevel)) &&
      (!health || health.has(r.healthStatus)) &&
      (c.osPlatform === null || r.osPlatform?.toLowerCase() === c.osPlatform) &&
      (c.nameContains === null || (r.name !== null && r.name.includes(c.nameContains))) &&
      (c.lastSeenSince === null || (r.lastSeen !== null && r.lastSeen >= c.lastSeenSince)) &&
      (c.group === null || r.group === c.group) &&
      (c.tag === null || r.tags.includes(c.tag)),
  );
  const keys = new Map(rows.map((r) => [r, sortKey(r, c.field)] as const));
  rows.sort((a, b) => compareKeys(keys.get(a)!, a.id, keys.get(b)!, b.id, c.descending));
  const view: FleetView = { rows, field: c.field, descending: c.descending, digest };
  // Drop the oldest view (never the rows) when full: a map keeps insertion order.
  if (index.views.size > MAX_VIEWS)
    for (const key of index.views.keys())
      if (key !== ROWS) {
        index.views.delete(key);
        break;
      }
  index.views.set(`view:${digest}`, view);
  return view;
}

/** Rows after a cursor's position (by key and id, so a refreshed listing continues where the last page ended), at most `first`. */
export function pageAfter(
  view: FleetView,
  after: { key: SortKey; id: string } | undefined,
  first: number,
): { rows: FleetRow[]; hasNextPage: boolean } {
  let start = 0;
  if (after !== undefined) {
    // The first row ordered after the cursor: binary search, the rows being in the view's order.
    let lo = 0;
    let hi = view.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const row = view.rows[mid]!;
      if (compareKeys(sortKey(row, view.field), row.id, after.key, after.id, view.descending) <= 0) lo = mid + 1;
      else hi = mid;
    }
    start = lo;
  }
  return { rows: view.rows.slice(start, start + first), hasNextPage: start + first < view.rows.length };
}

/** Counts per value over the whole view, computed once per view. */
export function facetsOf(view: FleetView): DefenderMachineFacets {
  view.facets ??= {
    riskScore: facetOf(view.rows, (r) => r.riskScore),
    exposureLevel: facetOf(view.rows, (r) => r.exposureLevel),
    healthStatus: facetOf(view.rows, (r) => r.healthStatus),
    osPlatform: facetOf(view.rows, (r) => r.osPlatform ?? "UNSPECIFIED"),
  };
  return view.facets;
}
