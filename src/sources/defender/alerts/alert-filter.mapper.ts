import { AlertSeverity, AlertStatus } from "./alert.enums";
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
