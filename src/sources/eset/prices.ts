import { lengthOf, one, firstArg, type IdListArgument, type PricedPart } from "../../limits/price-book";

/** `esetUsers(uuids:)`, limited by MAX_ESET_IDS. */
export const ESET_USER_UUIDS: IdListArgument = { arg: "uuids", setting: "MAX_ESET_IDS" };

/** The worst case of a batch of n ESET uuids. */
const batch = (n: number): number => (n <= 0 ? 0 : n + Math.ceil(Math.log2(n)) + 1);
/** ESET's largest page, and the most `first` accepts (50 by default). */
const page = firstArg(50, 1000);

/** What ESET's fields cost, in ESET calls (src/limits/price-book.ts). */
export const ESET_PRICES: PricedPart = {
  prices: {
    "Query.esetUser": { calls: { ESET: one }, times: one },
    // One batchGetUsers per 1000 when every uuid is known; with unknown uuids the loader bisects while it
    // pays and then asks singly (users/user.loader.ts): at most n + ceil(log2 n) + 1 calls.
    "Query.esetUsers": { calls: { ESET: (args) => batch(lengthOf("uuids")(args)) }, times: lengthOf("uuids") },
    // Resuming from a mid-page cursor costs two calls (the rest of that vendor page, then the next).
    "Query.esetUserList": { calls: { ESET: (args) => (typeof args.after === "string" && args.after !== "" ? 2 : 1) }, times: page },
  },
  freeFields: [
    "EsetUser.identities",
    "EsetUser.cloudOffice",
    "EsetUserConnection.edges",
    "EsetUserConnection.pageInfo",
    "EsetUserEdge.node",
  ],
  idLists: { esetUsers: ESET_USER_UUIDS },
  entityLists: { EsetUser: "esetUsers" },
};
