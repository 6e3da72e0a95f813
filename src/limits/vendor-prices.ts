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
}

/** Link fields fan out to the other vendor: up to 8 Defender GETs for an ESET user (src/people/link-finder.ts). */
export const LINK_FANOUT = 8;
/** ESET searches per Defender account's links ("user@domain." and "user@"). */
const ESET_SEARCHES = 2;
/** ESET's largest page, and the most `first` accepts. */
const ESET_PAGE_MAX = 1000;

const one = (): number => 1;
/** The worst case of a batch of n ESET uuids. */
const eset = (n: number): number => (n <= 0 ? 0 : n + Math.ceil(Math.log2(n)) + 1);
const fanout = (): number => LINK_FANOUT;
const lengthOf = (arg: string) => (args: Record<string, unknown>): number => {
  const v = args[arg];
  return Array.isArray(v) ? v.length : v === undefined || v === null ? 0 : 1;
};
const page = (args: Record<string, unknown>): number => {
  const first = typeof args.first === "number" && Number.isInteger(args.first) ? args.first : 50;
  return Math.min(ESET_PAGE_MAX, Math.max(0, first));
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
  "Query.person": { calls: { DEFENDER: () => LINK_FANOUT + LINK_FANOUT * LINK_FANOUT, ESET: () => ESET_SEARCHES + LINK_FANOUT * ESET_SEARCHES }, times: one },
  "Person.defenderUsers": { calls: {}, times: fanout },
  "Person.esetUsers": { calls: {}, times: fanout },
  "Person.links": { calls: {}, times: fanout },
  "EsetUser.defenderUsers": { calls: { DEFENDER: fanout }, times: fanout },
  "EsetUser.defenderLinks": { calls: { DEFENDER: fanout }, times: fanout },
  "DefenderUser.esetUsers": { calls: { ESET: () => ESET_SEARCHES }, times: fanout },
  "DefenderUser.esetLinks": { calls: { ESET: () => ESET_SEARCHES }, times: fanout },
};
