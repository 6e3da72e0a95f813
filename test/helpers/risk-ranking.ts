import type { WireObject } from "../../src/simulator/demo-data";
import type { Simulator } from "../../src/simulator/simulator";

/** The ranking of the at-risk views as DESIGN.md states it, computed from the simulator's own alerts (never from usergraph's code). */

export const SEVERITY = ["UNSPECIFIED", "INFORMATIONAL", "LOW", "MEDIUM", "HIGH"];
export const enumName = (v: unknown) =>
  typeof v === "string" && v !== ""
    ? v
        .replace(/([a-z])([A-Z])/g, "$1_$2")
        .toUpperCase()
        .replace("UN_SPECIFIED", "UNSPECIFIED")
    : "UNSPECIFIED";

export interface Expected {
  id: string;
  highestSeverity: string;
  alertCount: number;
  openAlertCount: number;
  lastAlertTime: string | null;
}

/** The ranking as DESIGN.md states it, from the simulator's own alerts. */
export function expectedRanking(sim: Simulator, since: string, minSeverity: string, statuses: string[] = []): Expected[] {
  const start = Date.parse(since);
  const byUser = new Map<string, WireObject[]>();
  for (const a of sim.defenderAlerts.values()) {
    const user = a.relatedUser as { userName?: string; domainName?: string } | null;
    if (!user?.userName || !(Date.parse(String(a.lastUpdateTime)) >= start)) continue;
    if (SEVERITY.indexOf(enumName(a.severity)) < SEVERITY.indexOf(minSeverity)) continue;
    if (statuses.length > 0 && !statuses.includes(enumName(a.status))) continue;
    const id = (user.domainName ? `${user.domainName}\\${user.userName}` : user.userName).toLowerCase();
    byUser.set(id, [...(byUser.get(id) ?? []), a]);
  }
  const rows = [...byUser].map(([id, alerts]) => {
    const last = Math.max(...alerts.map((a) => Date.parse(String(a.lastUpdateTime))));
    return {
      id,
      highestSeverity: SEVERITY[Math.max(...alerts.map((a) => SEVERITY.indexOf(enumName(a.severity))))]!,
      alertCount: alerts.length,
      openAlertCount: alerts.filter((a) => ["NEW", "IN_PROGRESS"].includes(enumName(a.status))).length,
      lastAlertTime: new Date(last).toISOString(),
      last,
    };
  });
  rows.sort(
    (a, b) =>
      SEVERITY.indexOf(b.highestSeverity) - SEVERITY.indexOf(a.highestSeverity) ||
      b.openAlertCount - a.openAlertCount ||
      b.last - a.last ||
      (a.id < b.id ? -1 : 1),
  );
  return rows.map(({ last: _, ...row }) => row);
}
