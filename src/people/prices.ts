import { firstArg, one, type PricedPart } from "../limits/price-book";
import { ALERT_WINDOW_MAX_PAGES } from "../sources/defender/prices";
import { ESET_ROSTER_MAX_PAGES } from "../sources/eset/user-list/user-roster.listing";

/** Link fields fan out to the other vendor: up to 8 Defender GETs for an ESET user (link-finder.ts). */
export const LINK_FANOUT = 8;
/** ESET searches per Defender account's links ("user@domain." and "user@", and the UPN an alert's evidence names). */
const ESET_SEARCHES = 3;
const fanout = (): number => LINK_FANOUT;

/** What the cross-vendor fields cost, in calls to each vendor (src/limits/price-book.ts). */
export const PEOPLE_PRICES: PricedPart = {
  prices: {
    // The reference's own candidates (8 Defender GETs, 3 ESET searches), then one hop from each side found.
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
    // Priced by both listings' pages, whatever the page or filter: the alert window and ESET's user list.
    "Query.peopleAtRisk": {
      calls: { DEFENDER: () => ALERT_WINDOW_MAX_PAGES, ESET: () => ESET_ROSTER_MAX_PAGES },
      times: firstArg(50, 1000),
    },
    // The ESET users linked to one account: from the list, no call; what is selected under them is priced per user.
    "PersonRisk.esetUsers": { calls: {}, times: fanout },
  },
  freeFields: [
    "UserLink.esetUser",
    "UserLink.defenderUser",
    "UserLink.matchedOn",
    "PersonRisk.defender",
    "PersonRisk.matchedOn",
    "PersonRiskConnection.edges",
    "PersonRiskConnection.pageInfo",
    "PersonRiskEdge.node",
  ],
};
