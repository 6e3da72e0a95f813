import { facetOf } from "../../../graphql/facet-count.type";
import type { UnknownEnumReporter } from "../../../graphql/normalize";
import type { Deadline } from "../../../upstream/deadline";
import { DEFENDER_MAX_TOP, type DefenderClient } from "../client";
import type { DefenderAlertDto } from "../dto";
import { Listings, readPages } from "../listings";
import { ALERT_LIST_MAX_PAGES } from "../prices";
import type { DefenderAlertFacets } from "./alert-connection.type";
import { toDefenderAlert } from "./alert.mapper";

/**
 * The whole filtered alert set behind a `defenderAlerts` page that selects `totalCount` or `facets`:
 * `GET /api/alerts?$filter=<the page's filter>&$top=10000` (following @odata.nextLink, at most
 * ALERT_LIST_MAX_PAGES pages). Defender returns no count, so counting needs the listing; the request that
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

export function alertCountListings(client: DefenderClient, ttlMs: number) {
  const listings = new Listings<AlertCounts>(ttlMs, MAX_FILTERS_KEPT, ({ alerts: _whole, ...counts }) => counts);

  const list = async (filter: string, evidence: boolean, deadline: Deadline, report: UnknownEnumReporter): Promise<AlertCounts> => {
    const { items, pages, complete } = await readPages(
      () => client.listAlerts({ filter, top: DEFENDER_MAX_TOP, expandEvidence: evidence }, deadline),
      (link) => client.nextAlerts(link, deadline),
      ALERT_LIST_MAX_PAGES,
    );
    const mapped = items.map((dto) => toDefenderAlert(dto, report));
    const facets: DefenderAlertFacets = {
      severity: facetOf(mapped, (a) => a.severity),
      status: facetOf(mapped, (a) => a.status),
      category: facetOf(mapped, (a) => a.category ?? "UNSPECIFIED"),
      detectionSource: facetOf(mapped, (a) => a.detectionSource ?? "UNSPECIFIED"),
    };
    return { alerts: items, evidence, complete, count: items.length, facets, listedAt: Date.now(), pages };
  };

  /** The counts of a filter: kept, joined, or listed now (with evidence when the page wants it). */
  return (filter: string, evidence: boolean, deadline: Deadline, report: UnknownEnumReporter): Promise<AlertCounts> => {
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
