import { AlertSeverity, AlertStatus } from "./alert.enums";
import type { DefenderAlertDto } from "../dto";
import type { DefenderAlertFilter } from "./alert-filter.input";
import { odataString } from "./alert.plan";

const SEVERITY_WIRE: Record<AlertSeverity, string> = {
  [AlertSeverity.UNSPECIFIED]: "UnSpecified",
  [AlertSeverity.INFORMATIONAL]: "Informational",
  [AlertSeverity.LOW]: "Low",
  [AlertSeverity.MEDIUM]: "Medium",
  [AlertSeverity.HIGH]: "High",
};

const STATUS_WIRE: Partial<Record<AlertStatus, string>> = {
  [AlertStatus.UNKNOWN]: "Unknown",
  [AlertStatus.NEW]: "New",
  [AlertStatus.IN_PROGRESS]: "InProgress",
  [AlertStatus.RESOLVED]: "Resolved",
};

/**
 * The filter as Defender's OData `$filter` (documented properties only; string literals quoted with `''`
 * escaping, dates as unquoted DateTimeOffset literals); "" for no filter. The same filter always gives the
 * same text, so the text is what a cursor is tied to.
 */
export function toODataFilter(filter: DefenderAlertFilter | null | undefined): string {
  if (!filter) return "";
  const parts: string[] = [];
  const anyOf = (field: string, values: string[]) => {
    if (values.length === 0) return;
    const terms = [...new Set(values)].sort().map((v) => `${field} eq ${odataString(v)}`);
    parts.push(terms.length === 1 ? terms[0]! : `(${terms.join(" or ")})`);
  };
  anyOf(
    "severity",
    (filter.severities ?? []).map((s) => SEVERITY_WIRE[s]),
  );
  anyOf(
    "status",
    (filter.statuses ?? []).flatMap((s) => STATUS_WIRE[s] ?? []),
  );
  if (filter.category) parts.push(`category eq ${odataString(filter.category)}`);
  if (filter.detectionSource) parts.push(`detectionSource eq ${odataString(filter.detectionSource)}`);
  if (filter.assignedTo) parts.push(`assignedTo eq ${odataString(filter.assignedTo)}`);
  if (filter.incidentId) parts.push(`incidentId eq ${filter.incidentId}`);
  if (filter.investigationId) parts.push(`investigationId eq ${filter.investigationId}`);
  const time = (field: string, op: string, d: Date | null | undefined) => {
    if (d) parts.push(`${field} ${op} ${d.toISOString()}`);
  };
  time("alertCreationTime", "ge", filter.createdSince);
  time("alertCreationTime", "lt", filter.createdBefore);
  time("lastUpdateTime", "ge", filter.updatedSince);
  time("lastUpdateTime", "lt", filter.updatedBefore);
  return parts.join(" and ");
}

/**
 * The filter's earliest time an alert it selects was last updated at (its `updatedSince`, or its
 * `createdSince`: an alert is never updated before it is created), or undefined when it has no lower time
 * bound. An alert window listed from that time's hour holds every alert the filter selects.
 */
export function lowerTimeBound(filter: DefenderAlertFilter | null | undefined): Date | undefined {
  const bounds = [filter?.createdSince, filter?.updatedSince].filter((d): d is Date => d instanceof Date);
  if (bounds.length === 0) return undefined;
  return new Date(Math.max(...bounds.map((d) => d.getTime())));
}

/**
 * The filter evaluated here on one wire alert, as Defender evaluates its `$filter` (toODataFilter): each
 * field given must hold, text compares without case, times as instants. For counting an alert window that
 * is already kept instead of listing the filtered set again (alert-count.listing.ts).
 */
export function alertMatches(filter: DefenderAlertFilter | null | undefined): (alert: DefenderAlertDto) => boolean {
  if (!filter) return () => true;
  const fold = (v: unknown) =>
    typeof v === "string" ? v.toLowerCase() : typeof v === "number" || typeof v === "bigint" ? String(v) : null;
  const anyOf = (values: string[]) => (values.length === 0 ? null : new Set(values.map((v) => v.toLowerCase())));
  const severities = anyOf((filter.severities ?? []).map((s) => SEVERITY_WIRE[s]));
  const statuses = anyOf((filter.statuses ?? []).flatMap((s) => STATUS_WIRE[s] ?? []));
  const exactly = (want: string | null | undefined) => (want ? want.toLowerCase() : null);
  const category = exactly(filter.category);
  const source = exactly(filter.detectionSource);
  const assignedTo = exactly(filter.assignedTo);
  const incident = exactly(filter.incidentId);
  const investigation = exactly(filter.investigationId);
  const at = (v: unknown) => (typeof v === "string" ? Date.parse(v) : NaN);
  const since = (d: Date | null | undefined, v: unknown) => !d || at(v) >= d.getTime();
  const before = (d: Date | null | undefined, v: unknown) => !d || at(v) < d.getTime();
  return (a) => {
    const text = (v: unknown) => fold(v);
    return (
      (severities === null || severities.has(text(a.severity) ?? "")) &&
      (statuses === null || statuses.has(text(a.status) ?? "")) &&
      (category === null || text(a.category) === category) &&
      (source === null || text(a.detectionSource) === source) &&
      (assignedTo === null || text(a.assignedTo) === assignedTo) &&
      (incident === null || text(a.incidentId) === incident) &&
      (investigation === null || text(a.investigationId) === investigation) &&
      since(filter.createdSince, a.alertCreationTime) &&
      before(filter.createdBefore, a.alertCreationTime) &&
      since(filter.updatedSince, a.lastUpdateTime) &&
      before(filter.updatedBefore, a.lastUpdateTime)
    );
  };
}
