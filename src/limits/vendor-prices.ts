export type VendorName = "DEFENDER" | "ESET";

/**
 * How many vendor calls a field may make, in the worst case, and how many times its children run. This is
 * the part of the cost limit that is usergraph's own: a library walks the operation, these numbers price it.
 */
export interface FieldPrice {
  /** The field's own calls to each vendor, from its coerced arguments. */
  calls: Partial<Record<VendorName, (args: Record<string, unknown>) => number>>;
  /** How many times the field's selection runs (a list's length). */
  times: (args: Record<string, unknown>) => number;
  /**
   * A planned relation: its loader batches every run in the operation into a shared vendor plan (a listing),
   * so its calls are priced for the whole operation, not per run (see PLANS); `calls` stays empty.
   */
  plan?: PlanName;
}

/**
 * Most pages of a listing the planned relations read (src/sources/defender/*.plan.ts take them from here):
 * the fleet (`GET /api/machines?$top=10000`, 30,000 machines) and one alert window
 * (`GET /api/alerts?$filter=lastUpdateTime ge …&$top=10000`, 20,000 alerts).
 */
export const FLEET_MAX_PAGES = 3;
export const ALERT_LIST_MAX_PAGES = 2;

export type PlanName = "defender-machines" | "defender-alerts";

/**
 * How a planned relation is priced: the plan, not the naive path. A loader lists when listing costs fewer
 * calls than asking per key, counting what the request already spent per key in the same plan group, and
 * only while the listing fits its page cap (src/sources/defender/listings.ts `listingPays`). So one plan
 * group of one request spends at most `perGroup` calls: the per-key calls made before listing paid (fewer
 * than the expected listing pages, which is at most the cap) plus the listing itself (at most the cap).
 * The operation is charged, per plan, min(runs × perRun, groups × perGroup), where runs is how many
 * times the planned fields run in the worst case (the product of the list lengths above them) and groups
 * is how many plan groups the operation can open: one for machines (one fleet), one per occurrence of an
 * alert relation (each may ask another time window).
 *
 * Assumptions, said plainly: a tenant whose fleet or alert window outgrows the cap is asked per key
 * (naive) and machines missing from the fleet listing (it shows recent machines only) are asked per id;
 * neither is in the price. The outbound rate limiter (DEFENDER_RATE_LIMITS) is the hard guard for those.
 */
export const PLANS: Record<
  PlanName,
  {
    vendor: VendorName;
    perRun: (args: Record<string, unknown>, selectsEvidence: boolean) => number;
    perGroup: number;
    groupPerOccurrence: boolean;
    /**
     * Most pages a plan group's listing reads. Keys the listing then does not answer (machines it does not
     * show, alert holders the cache evicted) are still asked per key, so once two keys may make a listing
     * pay, the naive side of the price is runs + these pages per group, not runs alone.
     */
    listingPages: number;
  }
> = {
  "defender-machines": {
    vendor: "DEFENDER",
    perRun: () => 1,
    perGroup: 2 * FLEET_MAX_PAGES,
    groupPerOccurrence: false,
    listingPages: FLEET_MAX_PAGES,
  },
  // Per key, evidence costs one more call per 25 alerts (the per-user and per-machine endpoints have no $expand).
  "defender-alerts": {
    vendor: "DEFENDER",
    perRun: (args, selectsEvidence) => 1 + (selectsEvidence ? Math.ceil(relationFirst(args) / 25) : 0),
    perGroup: 2 * ALERT_LIST_MAX_PAGES,
    groupPerOccurrence: true,
    listingPages: ALERT_LIST_MAX_PAGES,
  },
};

/** Object-typed fields that never call a vendor: plain parts of an entity already fetched. Anything else unpriced is refused. */
export const FREE_FIELDS: ReadonlySet<string> = new Set([
  "Query._service",
  "EsetUser.identities",
  "EsetUser.cloudOffice",
  "EsetUserConnection.edges",
  "EsetUserConnection.pageInfo",
  "EsetUserEdge.node",
  "UserLink.esetUser",
  "UserLink.defenderUser",
  "UserLink.matchedOn",
  "DefenderMachine.ipAddresses",
  "DefenderAlert.relatedUser",
  "DefenderAlert.comments",
  "DefenderAlert.evidence",
  "DefenderAlertConnection.edges",
  "DefenderAlertConnection.pageInfo",
  "DefenderAlertEdge.node",
]);

/** Link fields fan out to the other vendor: up to 8 Defender GETs for an ESET user (src/people/link-finder.ts). */
export const LINK_FANOUT = 8;
/** ESET searches per Defender account's links ("user@domain." and "user@", and the UPN an alert's evidence names). */
const ESET_SEARCHES = 3;
/** ESET's largest page, and the most `first` accepts. */
const ESET_PAGE_MAX = 1000;

const one = (): number => 1;
/** The worst case of a batch of n ESET uuids. */
const eset = (n: number): number => (n <= 0 ? 0 : n + Math.ceil(Math.log2(n)) + 1);
const fanout = (): number => LINK_FANOUT;
const lengthOf =
  (arg: string) =>
  (args: Record<string, unknown>): number => {
    const v = args[arg];
    return Array.isArray(v) ? v.length : v === undefined || v === null ? 0 : 1;
  };
const page = (args: Record<string, unknown>): number => {
  const first = typeof args.first === "number" && Number.isInteger(args.first) ? args.first : 50;
  return Math.min(ESET_PAGE_MAX, Math.max(0, first));
};

/** Relation lists (machines, log-on users, alerts of one user or machine): `first`, 20 by default, at most 100. */
const relationFirst = (args: Record<string, unknown>): number => {
  const first = typeof args.first === "number" && Number.isInteger(args.first) ? args.first : 20;
  return Math.min(100, Math.max(0, first));
};
/** defenderAlerts pages: `first`, 50 by default, at most 1000. */
const alertPage = (args: Record<string, unknown>): number => {
  const first = typeof args.first === "number" && Number.isInteger(args.first) ? args.first : 50;
  return Math.min(1000, Math.max(0, first));
};

export const PRICES: Record<string, FieldPrice> = {
  "Query.defenderUser": { calls: { DEFENDER: one }, times: one },
  // Defender has no batch endpoint: one GET per id.
  "Query.defenderUsers": { calls: { DEFENDER: lengthOf("ids") }, times: lengthOf("ids") },
  "Query.esetUser": { calls: { ESET: one }, times: one },
  // One batchGetUsers per 1000 when every uuid is known; with unknown uuids the loader bisects while it
  // pays and then asks singly (src/sources/eset/users/user.loader.ts): at most n + ceil(log2 n) + 1 calls.
  "Query.esetUsers": { calls: { ESET: (args) => eset(lengthOf("uuids")(args)) }, times: lengthOf("uuids") },
  // Resuming from a mid-page cursor costs two calls (the rest of that vendor page, then the next).
  "Query.esetUserList": { calls: { ESET: (args) => (typeof args.after === "string" && args.after !== "" ? 2 : 1) }, times: page },
  // The reference's own candidates (8 Defender GETs, 2 ESET searches), then one hop from each side found.
  "Query.person": {
    calls: { DEFENDER: () => LINK_FANOUT + LINK_FANOUT * LINK_FANOUT, ESET: () => ESET_SEARCHES + LINK_FANOUT * ESET_SEARCHES },
    times: one,
  },
  "Person.defenderUsers": { calls: {}, times: fanout },
  "Person.esetUsers": { calls: {}, times: fanout },
  "Person.links": { calls: {}, times: fanout },
  "EsetUser.defenderUsers": { calls: { DEFENDER: fanout }, times: fanout },
  "EsetUser.defenderLinks": { calls: { DEFENDER: fanout }, times: fanout },
  "DefenderUser.esetUsers": { calls: { ESET: () => ESET_SEARCHES }, times: fanout },
  "DefenderUser.esetLinks": { calls: { ESET: () => ESET_SEARCHES }, times: fanout },
  // Defender's relations (src/sources/defender). Machines by id share one plan (the fleet listing or per id).
  "Query.defenderMachine": { calls: {}, times: one, plan: "defender-machines" },
  "DefenderUser.mostPrevalentMachine": { calls: {}, times: one, plan: "defender-machines" },
  "DefenderUser.leastPrevalentMachine": { calls: {}, times: one, plan: "defender-machines" },
  "DefenderAlert.machine": { calls: {}, times: one, plan: "defender-machines" },
  // No batch, no filter by user: one GET /api/users/{id}/machines per user.
  "DefenderUser.machines": { calls: { DEFENDER: one }, times: relationFirst },
  // One GET /api/machines/{id}/logonusers per machine.
  "DefenderMachine.loggedOnUsers": { calls: { DEFENDER: one }, times: relationFirst },
  // Alerts of users and machines share one plan per time window (the alert listing or per key).
  "DefenderUser.alerts": { calls: {}, times: relationFirst, plan: "defender-alerts" },
  "DefenderMachine.alerts": { calls: {}, times: relationFirst, plan: "defender-alerts" },
  // One GET /api/alerts a page, evidence included.
  "Query.defenderAlerts": { calls: { DEFENDER: one }, times: alertPage },
};
