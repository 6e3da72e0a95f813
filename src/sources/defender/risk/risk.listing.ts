import type { Deadline } from "../../../upstream/deadline";
import { DEFENDER_MAX_TOP, type DefenderClient } from "../client";
import type { DefenderAlertDto } from "../dto";
import { Listings, readPages } from "../listings";
import { ALERT_WINDOW_MAX_PAGES } from "../prices";
import { relatedUser } from "../alerts/alert.mapper";
import type { AlertRelatedUser } from "../alerts/alert.type";

/**
 * The alert window behind `defenderUsersAtRisk` and `peopleAtRisk`: one
 * `GET /api/alerts?$filter=lastUpdateTime ge <since, rounded down to the hour>&$top=10000&$expand=evidence`
 * (following @odata.nextLink, at most ALERT_WINDOW_MAX_PAGES pages), grouped by related user. Kept whole
 * while fresh (every rank, filter and page is computed from it at no further call), shared by every
 * request of the credentials; at most MAX_WINDOWS windows at once, so the memory is that of a few alert
 * listings. The user and machine alerts it holds are handed to the alert plan's store too (`onListed`).
 */
export interface RiskListing {
  /** Per related user (`domain\user`, lower-cased; bare when the alert names no domain): the user and its alerts. */
  byUser: Map<string, { user: AlertRelatedUser; alerts: DefenderAlertDto[] }>;
  /** Every alert of the window in Defender's order (newest update first): defenderAlerts counts and pages read it (alert-count.listing.ts). */
  alerts: DefenderAlertDto[];
  listedAt: number;
  pages: number;
  /** Every page was read (the window holds at most ALERT_WINDOW_MAX_PAGES × 10,000 alerts). */
  complete: boolean;
  /** Views computed from it (risk-view.ts), kept with it. */
  views: Map<string, unknown>;
}

/** Windows kept at once: a dashboard asks one or two ("the last 24 hours", "the last 7 days"). */
const MAX_WINDOWS = 4;

export type RiskReader = (window: string, deadline: Deadline) => Promise<RiskListing>;

export function riskListings(
  client: DefenderClient,
  ttlMs: number,
  onListed: (window: string, alerts: DefenderAlertDto[], complete: boolean) => void,
): RiskReader {
  const listings = new Listings<RiskListing>(ttlMs, MAX_WINDOWS);
  const list = async (window: string, deadline: Deadline): Promise<RiskListing> => {
    const { items, pages, complete } = await readPages(
      () => client.listAlerts({ filter: `lastUpdateTime ge ${window}`, top: DEFENDER_MAX_TOP, expandEvidence: true }, deadline),
      (link) => client.nextAlerts(link, deadline),
      ALERT_WINDOW_MAX_PAGES,
    );
    const byUser = new Map<string, { user: AlertRelatedUser; alerts: DefenderAlertDto[] }>();
    for (const alert of items) {
      const user = relatedUser(alert.relatedUser);
      if (user === null) continue;
      const entry = byUser.get(user.defenderUserId!);
      if (entry === undefined) byUser.set(user.defenderUserId!, { user, alerts: [alert] });
      else entry.alerts.push(alert);
    }
    onListed(window, items, complete);
    return { byUser, alerts: items, listedAt: Date.now(), pages, complete, views: new Map() };
  };
  return (window, deadline) => {
    const kept = listings.peek(window) !== undefined || listings.ofRequest(window, deadline) !== undefined;
    const listing = listings.get(window, deadline, () => list(window, deadline));
    void listing.then(
      (l) =>
        deadline.notePlan(
          kept ? "alerts: cached window for users at risk" : `alerts: list, ${l.pages} call${l.pages === 1 ? "" : "s"} for users at risk`,
        ),
      () => undefined,
    );
    return listing;
  };
}
