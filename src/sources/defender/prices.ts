import type { FieldNode } from "graphql";
import { firstArg, lengthOf, maySelect, one, type IdListArgument, type PlanPrice, type PricedPart } from "../../limits/price-book";

/**
 * Most pages of a listing read before it is called incomplete (`complete: false`): a bound for the price,
 * far above the fleets and windows the listings are for, so that they are read to their end
 * (`@odata.nextLink`) in practice.
 * - The fleet (`GET /api/machines?$top=10000`, machines/machine.plan.ts): 10 pages, 100,000 machines.
 * - The alert window of the fleet views (`GET /api/alerts?$filter=lastUpdateTime ge …&$top=10000&$expand=evidence`,
 *   risk/risk.listing.ts, which defenderAlerts' counts read too): 5 pages, 50,000 alerts.
 * - The alert relations' own listing (alerts/alert.plan.ts), chosen only when it costs fewer calls than
 *   asking per user: 2 pages, 20,000 alerts; past that they are asked per key.
 * A kept listing costs no call; a cold one costs its pages (ceil(size / 10,000)), which is what is spent.
 */
export const FLEET_MAX_PAGES = 10;
export const ALERT_WINDOW_MAX_PAGES = 5;
export const ALERT_LIST_MAX_PAGES = 2;

/** `defenderUsers(ids:)`, limited by MAX_DEFENDER_IDS. */
export const DEFENDER_USER_IDS: IdListArgument = { arg: "ids", setting: "MAX_DEFENDER_IDS" };

/** Relation lists (machines, log-on users, alerts of one user or machine): `first`, 20 by default, at most 100. */
const relationFirst = firstArg(20, 100);
/** defenderAlerts pages: `first`, 50 by default, at most 1000. */
const alertPage = firstArg(50, 1000);
/** defenderMachines pages: `first`, 50 by default, at most 1000. */
const machinePage = firstArg(50, 1000);
/**
 * A defenderAlerts page: one call; with its counts selected, the filtered set's listing (at most its cap)
 * and, when that listing cannot serve the page (it lacks evidence, or the page lies beyond its cap), the page call.
 */
const alertPageCalls = (_args: Record<string, unknown>, node: FieldNode): number =>
  1 + (maySelect(node, ["totalCount", "facets", "countedAt"]) ? ALERT_WINDOW_MAX_PAGES : 0);
/** defenderUsersAtRisk pages: `first`, 50 by default, at most 1000. */
const riskPage = firstArg(50, 1000);
/** The alert window's listing, whole (with evidence): at most its page cap, whatever the arguments or page (0 while kept). */
const alertWindowListing = (): number => ALERT_WINDOW_MAX_PAGES;
/** The fleet listing, whole: at most its page cap, whatever the filter, order or page (0 while kept). */
const fleetListing = (): number => FLEET_MAX_PAGES;

/**
 * The plans, priced as plans (see PlanPrice). A loader lists when listing costs fewer calls than asking per
 * key, counting what the request already spent per key in the same plan group, and only while the listing
 * fits its page cap (listings.ts `listingPays`). So one plan group of one request spends at most the
 * per-key calls made before listing paid (fewer than the expected listing pages, at most the cap) plus the
 * listing itself (at most the cap): `perGroup` = 2 × cap. Machines share one group (one fleet); each
 * occurrence of an alert relation may ask another time window, so each is a group of its own.
 *
 * Assumptions, said plainly: a tenant whose fleet or alert window outgrows the cap is asked per key
 * (naive) and machines missing from the fleet listing (it shows recent machines only) are asked per id;
 * neither is in the price. The price is the hard guard for those: a request makes no more Defender calls
 * than it was priced at (Deadline.callBudget), and a field whose call would go past it fails alone.
 */
export const MACHINES_PLAN: PlanPrice = {
  name: "defender-machines",
  vendor: "DEFENDER",
  perRun: () => 1,
  perGroup: 2 * FLEET_MAX_PAGES,
  groupPerOccurrence: false,
  listingPages: FLEET_MAX_PAGES,
};
export const ALERTS_PLAN: PlanPrice = {
  name: "defender-alerts",
  vendor: "DEFENDER",
  // Per key, evidence costs one more call per 25 alerts (the per-user and per-machine endpoints have no $expand).
  perRun: (args, node) => 1 + (maySelect(node, ["evidence"]) ? Math.ceil(relationFirst(args) / 25) : 0),
  perGroup: 2 * ALERT_LIST_MAX_PAGES,
  groupPerOccurrence: true,
  listingPages: ALERT_LIST_MAX_PAGES,
};

/** What Defender's fields cost, in Defender calls (src/limits/price-book.ts). */
export const DEFENDER_PRICES: PricedPart = {
  prices: {
    "Query.defenderUser": { calls: { DEFENDER: one }, times: one },
    // Defender has no batch endpoint: one GET per id.
    "Query.defenderUsers": { calls: { DEFENDER: lengthOf("ids") }, times: lengthOf("ids") },
    // Machines by id share one plan (the fleet listing or per id).
    "Query.defenderMachine": { calls: {}, times: one, plan: MACHINES_PLAN },
    "DefenderUser.mostPrevalentMachine": { calls: {}, times: one, plan: MACHINES_PLAN },
    "DefenderUser.leastPrevalentMachine": { calls: {}, times: one, plan: MACHINES_PLAN },
    "DefenderAlert.machine": { calls: {}, times: one, plan: MACHINES_PLAN },
    // No batch, no filter by user: one GET /api/users/{id}/machines per user.
    "DefenderUser.machines": { calls: { DEFENDER: one }, times: relationFirst },
    // One GET /api/machines/{id}/logonusers per machine.
    "DefenderMachine.loggedOnUsers": { calls: { DEFENDER: one }, times: relationFirst },
    // Alerts of users and machines share one plan per time window (the alert listing or per key).
    "DefenderUser.alerts": { calls: {}, times: relationFirst, plan: ALERTS_PLAN },
    "DefenderMachine.alerts": { calls: {}, times: relationFirst, plan: ALERTS_PLAN },
    // One GET /api/alerts a page, evidence included; counts add the filtered set's listing (alert-count.listing.ts).
    "Query.defenderAlerts": { calls: { DEFENDER: alertPageCalls }, times: alertPage },
    // Priced by the fleet listing's pages, not per machine: every page, filter, order and count comes from it.
    "Query.defenderMachines": { calls: { DEFENDER: fleetListing }, times: machinePage },
    // Priced by the alert window's pages, not per account: ranks, counts, pages and alerts come from it.
    "Query.defenderUsersAtRisk": { calls: { DEFENDER: alertWindowListing }, times: riskPage },
    // The account itself: one GET /api/users/{id} per account on the page.
    "DefenderUserRisk.user": { calls: { DEFENDER: one }, times: one },
    // From the listing: no call; what is selected under each alert is priced per alert.
    "DefenderUserRisk.alerts": { calls: {}, times: relationFirst },
  },
  freeFields: [
    "DefenderMachine.ipAddresses",
    "DefenderAlert.relatedUser",
    "DefenderAlert.comments",
    "DefenderAlert.evidence",
    "DefenderAlertConnection.edges",
    "DefenderAlertConnection.pageInfo",
    "DefenderAlertEdge.node",
    "DefenderAlertConnection.facets",
    "DefenderAlertFacets.severity",
    "DefenderAlertFacets.status",
    "DefenderAlertFacets.category",
    "DefenderAlertFacets.detectionSource",
    "DefenderMachineConnection.edges",
    "DefenderMachineConnection.pageInfo",
    "DefenderMachineConnection.facets",
    "DefenderMachineEdge.node",
    "DefenderMachineFacets.riskScore",
    "DefenderMachineFacets.exposureLevel",
    "DefenderMachineFacets.healthStatus",
    "DefenderMachineFacets.osPlatform",
    "DefenderUserRiskConnection.edges",
    "DefenderUserRiskConnection.pageInfo",
    "DefenderUserRiskEdge.node",
  ],
  idLists: { defenderUsers: DEFENDER_USER_IDS },
  entityLists: { DefenderUser: "defenderUsers" },
};
