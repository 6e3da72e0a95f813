import type { Deadline } from "../../../upstream/deadline";
import { approximateBytes, type ListingBudget } from "../../../store/listing-budget";
import type { SharedListings } from "../../../store/shared-listings";
import { DEFENDER_MAX_TOP, type DefenderClient } from "../client";
import type { DefenderAlertDto } from "../dto";
import { Listings, readPages } from "../listings";
import { ALERT_WINDOW_MAX_PAGES } from "../prices";
import { relatedUser } from "../alerts/alert.mapper";
import type { AlertRelatedUser } from "../alerts/alert.type";

/**
 * The alert window behind `defenderUsersAtRisk`, `peopleAtRisk` and the counts of `defenderAlerts` with a
 * time bound: one `GET /api/alerts?$filter=lastUpdateTime ge <since, rounded down to the hour>&$top=10000&$expand=evidence`
 * (following @odata.nextLink, at most ALERT_WINDOW_MAX_PAGES pages), grouped by related user. Kept whole
 * (every rank, filter, count and page is computed from it at no further call), shared by every request of
 * the credentials, bounded by the listing budget (LISTINGS_MAX_MB). The user and machine alerts it holds
 * are handed to the alert plan's store too (`onListed`).
 *
 * Refreshed by delta (UPSTREAMS.md §5.1: `lastUpdateTime` is filterable): once the window is older than
 * its freshness (the Defender cache TTL, at most ALERT_DELTA_SECONDS), the next read asks only
 * `lastUpdateTime ge <when it was last read, less DELTA_OVERLAP_MS>` and merges what changed by id, so a
 * dashboard refreshing every minute costs one call a minute, not the window's pages. An alert only moves
 * forward in `lastUpdateTime`, so it stays in the window and the delta sees every change; what the delta
 * cannot see (an alert that left the app's view) goes at the next whole listing, at most
 * DELTA_REBASE_MS after the last one.
 */
export interface RiskListing {
  /** The window's start, as its key (`lastUpdateTime ge` this). */
  window: string;
  /** Per related user (`domain\user`, lower-cased; bare when the alert names no domain): the user and its alerts. */
  byUser: Map<string, { user: AlertRelatedUser; alerts: DefenderAlertDto[] }>;
  /** Every alert of the window in Defender's order (newest update first): defenderAlerts counts and pages read it (alert-count.listing.ts). */
  alerts: DefenderAlertDto[];
  /** When the listing was read (the first call's start), or last brought up to date by a delta. */
  listedAt: number;
  /** When the window was last listed whole. */
  fullAt: number;
  /** Calls the last read made (the whole listing's pages, or the delta's). */
  pages: number;
  /** How the last read was made. */
  refresh: "whole" | "delta";
  /** Every page was read (the window holds at most ALERT_WINDOW_MAX_PAGES × 10,000 alerts). */
  complete: boolean;
  /** Views computed from it (risk-view.ts), kept with it. */
  views: Map<string, unknown>;
}

/** Windows kept at once: a dashboard asks one or two ("the last 24 hours", "the last 7 days"). */
const MAX_WINDOWS = 4;
/** How far before the last read a delta asks from: clock skew between Defender and usergraph, and updates written while the last read ran. */
export const DELTA_OVERLAP_MS = 5 * 60_000;
/** A window refreshed by deltas is listed whole again this long after its last whole listing. */
export const DELTA_REBASE_MS = 60 * 60_000;

export type RiskReader = (window: string, deadline: Deadline) => Promise<RiskListing>;

export interface RiskListingOptions {
  client: DefenderClient;
  /** The Defender cache TTL: how long a window is kept. */
  ttlMs: number;
  /** ALERT_DELTA_SECONDS in ms: a window older than this is refreshed by delta on its next read (0: never; the TTL alone). */
  deltaMs: number;
  budget: ListingBudget;
  onListed: (window: string, alerts: DefenderAlertDto[], complete: boolean) => void;
  /** With Redis: windows shared across replicas (one lists or refreshes, the others read). */
  shared?: SharedListings;
}

type RiskWire = Pick<RiskListing, "window" | "alerts" | "listedAt" | "fullAt" | "pages" | "refresh" | "complete">;

function group(alerts: readonly DefenderAlertDto[]): RiskListing["byUser"] {
  const byUser = new Map<string, { user: AlertRelatedUser; alerts: DefenderAlertDto[] }>();
  for (const alert of alerts) {
    const user = relatedUser(alert.relatedUser);
    if (user === null) continue;
    const entry = byUser.get(user.defenderUserId!);
    if (entry === undefined) byUser.set(user.defenderUserId!, { user, alerts: [alert] });
    else entry.alerts.push(alert);
  }
  return byUser;
}

/** An OData DateTimeOffset literal, to the second. */
function odataTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

export function riskListings(o: RiskListingOptions): RiskReader {
  const { client } = o;
  const fresh = o.deltaMs > 0 ? Math.min(o.ttlMs, o.deltaMs) : o.ttlMs;
  const listings = new Listings<RiskListing>({
    name: "risk",
    source: "DEFENDER",
    ttlMs: fresh,
    budget: o.budget,
    maxKept: MAX_WINDOWS,
    // Each alert also sits in its user's list and in the alert store's entries (those count in CACHE_MAX_MB).
    bytes: (l) => approximateBytes(l.alerts, 64),
    // Kept past its freshness as the base of the next delta, up to the rebase (only when deltas are on).
    reuseMs: o.deltaMs > 0 && o.ttlMs > 0 ? Math.max(o.ttlMs - fresh, DELTA_REBASE_MS - fresh) : 0,
    shared: o.shared && {
      store: o.shared,
      toWire: (l): RiskWire => ({
        window: l.window,
        alerts: l.alerts,
        listedAt: l.listedAt,
        fullAt: l.fullAt,
        pages: l.pages,
        refresh: l.refresh,
        complete: l.complete,
      }),
      fromWire: (wire) => {
        const w = wire as RiskWire;
        // Its alerts reach this replica's alert store and evidence book as if it had listed them.
        o.onListed(w.window, w.alerts, w.complete);
        return { ...w, byUser: group(w.alerts), views: new Map() };
      },
    },
  });

  const whole = async (window: string, deadline: Deadline): Promise<RiskListing> => {
    const started = Date.now();
    const { items, pages, complete } = await readPages(
      () => client.listAlerts({ filter: `lastUpdateTime ge ${window}`, top: DEFENDER_MAX_TOP, expandEvidence: true }, deadline),
      (link) => client.nextAlerts(link, deadline),
      ALERT_WINDOW_MAX_PAGES,
    );
    o.onListed(window, items, complete);
    return {
      window,
      byUser: group(items),
      alerts: items,
      listedAt: started,
      fullAt: started,
      pages,
      refresh: "whole",
      complete,
      views: new Map(),
    };
  };

  /** What changed since `previous` was read, merged into it by id; undefined when the delta itself outgrew the page bound. */
  const delta = async (window: string, previous: RiskListing, deadline: Deadline): Promise<RiskListing | undefined> => {
    const started = Date.now();
    const from = Math.max(Date.parse(window), previous.listedAt - DELTA_OVERLAP_MS);
    const { items, pages, complete } = await readPages(
      () => client.listAlerts({ filter: `lastUpdateTime ge ${odataTime(from)}`, top: DEFENDER_MAX_TOP, expandEvidence: true }, deadline),
      (link) => client.nextAlerts(link, deadline),
      ALERT_WINDOW_MAX_PAGES,
    );
    if (!complete) return undefined;
    // Defender's order is newest update first: every changed alert was updated at or after `from`, every
    // other one before it (else the delta would hold it), so the changed ones go first, in the delta's order.
    const changed = new Set(items.map((a) => a.id));
    const alerts = [...items, ...previous.alerts.filter((a) => !changed.has(a.id))];
    o.onListed(window, alerts, true);
    return {
      window,
      byUser: group(alerts),
      alerts,
      listedAt: started,
      fullAt: previous.fullAt,
      pages,
      refresh: "delta",
      complete: true,
      views: new Map(),
    };
  };

  const read = async (window: string, previous: RiskListing | undefined, deadline: Deadline): Promise<RiskListing> => {
    if (previous?.complete && Date.now() - previous.fullAt < DELTA_REBASE_MS) {
      const refreshed = await delta(window, previous, deadline);
      if (refreshed !== undefined) return refreshed;
    }
    return whole(window, deadline);
  };

  return (window, deadline) => {
    const kept = listings.peek(window) !== undefined || listings.ofRequest(window, deadline) !== undefined;
    const listing = listings.get(window, deadline, (previous) => read(window, previous, deadline));
    void listing.then(
      (l) =>
        deadline.notePlan(
          kept
            ? "alerts: cached window for users at risk"
            : listings.readFromRedis(l)
              ? "alerts: window from Redis (listed by another replica) for users at risk"
              : l.refresh === "delta"
                ? `alerts: window refreshed by delta, ${l.pages} call${l.pages === 1 ? "" : "s"} for users at risk`
                : `alerts: list, ${l.pages} call${l.pages === 1 ? "" : "s"} for users at risk${listings.tooLarge.has(window) ? " (not kept: larger than LISTINGS_MAX_MB)" : ""}`,
        ),
      () => undefined,
    );
    return listing;
  };
}
