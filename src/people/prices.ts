import { one, type PricedPart } from "../limits/price-book";

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
  },
  freeFields: ["UserLink.esetUser", "UserLink.defenderUser", "UserLink.matchedOn"],
};
