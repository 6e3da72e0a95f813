import { facetOf } from "../../../graphql/facet-count.type";
import type { UnknownEnumReporter } from "../../../graphql/normalize";
import type { Deadline } from "../../../upstream/deadline";
import { DEFENDER_MAX_TOP, type DefenderClient } from "../client";
import type { DefenderAlertDto } from "../dto";
import { Listings, readPages } from "../listings";
import { ALERT_WINDOW_MAX_PAGES } from "../prices";
import type { ListingBudget } from "../../../store/listing-budget";
import type { DefenderAlertFacets } from "./alert-connection.type";
import { toDefenderAlert } from "./alert.mapper";
import { alertMatches, lowerTimeBound } from "./alert-filter.mapper";
import type { DefenderAlertFilter } from "./alert-filter.input";
import { windowOf } from "./alert.plan";
import type { RiskReader } from "../risk/risk.listing";

/**
 * The whole filtered alert set behind a `defenderAlerts` page that selects `totalCount` or `facets`:
 * `GET /api/alerts?$filter=<the page's filter>&$top=10000` (following @odata.nextLink, at most
 * ALERT_WINDOW_MAX_PAGES pages). Defender returns no count, so counting needs the listing; the request that
 * lists serves its page from it too (no separate page call). Kept while fresh, per filter, counts only:
 * later requests read the counts at no call and ask Defender for their page as before (one call).
 */
export interface AlertCounts {
  /** The listed alerts, in Defender's order: only for the request that listed (or joined the listing). */
  alerts?: DefenderAlertDto[];
  /** Whether the listing was read with $expand=evidence. */
  evidence: boolean;
  /** Every page was read: the counts are the whole filtered set's. */
  complete: boolean;
  count: number;
  facets: DefenderAlertFacets;
  listedAt: number;
  pages: number;
}

/** Filters whose counts are kept at once: each entry is a few facet buckets, not the alerts. */
const MAX_FILTERS_KEPT = 64;

/** Counts and facets of alerts, as the connection shows them. */
function facetsOfAlerts(items: readonly DefenderAlertDto[], report: UnknownEnumReporter): DefenderAlertFacets {
  const mapped = items.map((dto) => toDefenderAlert(dto, report));
  return {
    severity: facetOf(mapped, (a) => a.severity),
    status: facetOf(mapped, (a) => a.status),
    category: facetOf(mapped, (a) => a.category ?? "UNSPECIFIED"),
    detectionSource: facetOf(mapped, (a) => a.detectionSource ?? "UNSPECIFIED"),
  };
}

/**
 * Counts of a filter with a lower time bound (createdSince or updatedSince), from the alert window of that
 * bound's hour (risk/risk.listing.ts: `lastUpdateTime ge <hour>` with evidence), which holds every alert
 * the filter selects: the same listing defenderUsersAtRisk and peopleAtRisk read, so a dashboard asking
 * both lists once, and its delta refresh keeps the counts fresh too. Filtered here (alertMatches) once per
 * filter and window listing (at most MAX_FILTERS_KEPT filters per listing). Undefined when the filter has
 * no lower bound or the window is not whole; a window once found larger than its bound is not read for
 * counts again (`overgrown`): the filtered set alone is then listed, as the price allows.
 */
async function countsFromWindow(
  risk: RiskReader,
  overgrown: Set<string>,
  odata: string,
  filter: DefenderAlertFilter | null | undefined,
  deadline: Deadline,
  report: UnknownEnumReporter,
): Promise<AlertCounts | undefined> {
  const bound = lowerTimeBound(filter);
  if (bound === undefined || overgrown.has(windowOf(bound))) return undefined;
  const window = await risk(windowOf(bound), deadline);
  if (!window.complete) {
    if (overgrown.size > 64) overgrown.clear();
    overgrown.add(window.window);
    return undefined;
  }
  const key = `counts:${odata}`;
  let counts = window.views.get(key) as AlertCounts | undefined;
  if (counts === undefined) {
    const alerts = window.alerts.filter(alertMatches(filter));
    counts = {
      alerts,
      evidence: true,
      complete: true,
      count: alerts.length,
      facets: facetsOfAlerts(alerts, report),
      listedAt: window.listedAt,
      pages: 0,
    };
    // Bounded per listing: the oldest filter's counts go first (a Map keeps insertion order).
    const countKeys = [...window.views.keys()].filter((k) => k.startsWith("counts:"));
    if (countKeys.length >= MAX_FILTERS_KEPT) window.views.delete(countKeys[0]!);
    window.views.set(key, counts);
  }
  return counts;
}

export function alertCountListings(client: DefenderClient, ttlMs: number, risk: RiskReader, budget: ListingBudget) {
  /** Alert windows last found larger than their bound: counted per filter instead. */
  const overgrown = new Set<string>();
  const listings = new Listings<AlertCounts>({
    name: "alert-counts",
    source: "DEFENDER",
    ttlMs,
    budget,
    maxKept: MAX_FILTERS_KEPT,
    keep: ({ alerts: _whole, ...counts }) => counts,
    bytes: (c) => 2048 + 64 * (c.facets.category.length + c.facets.detectionSource.length),
  });

  const list = async (filter: string, evidence: boolean, deadline: Deadline, report: UnknownEnumReporter): Promise<AlertCounts> => {
    const { items, pages, complete } = await readPages(
      () => client.listAlerts({ filter, top: DEFENDER_MAX_TOP, expandEvidence: evidence }, deadline),
      (link) => client.nextAlerts(link, deadline),
      ALERT_WINDOW_MAX_PAGES,
    );
    const facets = facetsOfAlerts(items, report);
    return { alerts: items, evidence, complete, count: items.length, facets, listedAt: Date.now(), pages };
  };

  /** The counts of a filter: from the alert window, or kept, joined, or listed now per filter (with evidence when the page wants it). */
  return async (
    filter: string,
    input: DefenderAlertFilter | null | undefined,
    evidence: boolean,
    deadline: Deadline,
    report: UnknownEnumReporter,
  ): Promise<AlertCounts> => {
    const fromWindow = await countsFromWindow(risk, overgrown, filter, input, deadline, report);
    if (fromWindow !== undefined) {
      deadline.notePlan("alerts: defenderAlerts counts from the alert window");
      return fromWindow;
    }
    const kept = listings.peek(filter) !== undefined || listings.ofRequest(filter, deadline) !== undefined;
    const counts = listings.get(filter, deadline, () => list(filter, evidence, deadline, report));
    void counts.then(
      (c) =>
        deadline.notePlan(
          kept || c.alerts === undefined
            ? "alerts: cached counts for defenderAlerts"
            : `alerts: list, ${c.pages} call${c.pages === 1 ? "" : "s"} for defenderAlerts counts`,
        ),
      () => undefined,
    );
    return counts;
  };
}
