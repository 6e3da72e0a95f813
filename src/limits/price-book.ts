import { Kind, type FieldNode, type SelectionSetNode } from "graphql";
import type { SourceName } from "../upstream/source";

/** A source, as its prices name it (its registered name). */
export type VendorName = SourceName;

/**
 * How many vendor calls a field may make, in the worst case, and how many times its children run. This is
 * the part of the cost limit that is usergraph's own: a library walks the operation (operation-limits.ts),
 * these numbers price it. Each vendor folder declares the prices of the fields it resolves, next to them
 * (src/sources/<vendor>/register.ts, src/people/register.ts); src/graph-parts.ts assembles the book.
 */
export interface FieldPrice {
  /** The field's own calls to each vendor, from its coerced arguments (and its selection, for a field whose calls depend on it). */
  calls: Partial<Record<VendorName, (args: Record<string, unknown>, node: FieldNode) => number>>;
  /** How many times the field's selection runs (a list's length). */
  times: (args: Record<string, unknown>) => number;
  /**
   * A planned relation: its loader batches every run in the operation into a shared vendor plan (a listing),
   * so its calls are priced for the whole operation, not per run (see PlanPrice); `calls` stays empty.
   */
  plan?: PlanPrice;
}

/**
 * How a planned relation is priced: the plan, not the naive path. One plan group of one request spends at
 * most `perGroup` calls; the operation is charged, per plan, min(runs × perRun, groups × perGroup) (with
`listingPages` per group on the naive side from two runs on), where
 * runs is how many times the planned fields run in the worst case (the product of the list lengths above
 * them) and groups is how many plan groups the operation can open (one, or one per occurrence of a field
 * of the plan when `groupPerOccurrence`). The vendor that owns the plan says why its bound holds.
 */
export interface PlanPrice {
  name: string;
  vendor: VendorName;
  /** Calls per run, from the field's coerced arguments and its selection (what it selects may cost more). */
  perRun: (args: Record<string, unknown>, node: FieldNode) => number;
  perGroup: number;
  groupPerOccurrence: boolean;
  /**
   * Most pages a plan group's listing reads. Keys the listing then does not answer (machines it does not
   * show, alert holders the cache evicted) are still asked per key, so once two keys may make a listing
   * pay, the naive side of the price is runs + these pages per group, not runs alone.
   */
  listingPages: number;
}

/** A list argument that carries ids, and the setting that limits it (named in refusals). */
export interface IdListArgument {
  arg: string;
  setting: string;
}

/** What one part of the graph (a source, or the cross-vendor features) declares about the cost of its fields. */
export interface PricedPart {
  /** Prices per field, keyed `Type.field`. */
  prices: Record<string, FieldPrice>;
  /** Object-typed fields that never call a vendor: plain parts of an entity already fetched. */
  freeFields?: readonly string[];
  /** Root list fields whose argument carries ids (each limited by `maxListIds[field]`). */
  idLists?: Record<string, IdListArgument>;
  /** Federation: entity type name → the root list field that loads the same ids (its limit and price). */
  entityLists?: Record<string, string>;
}

/** Every part's prices in one book, for the cost plugin. Anything the book does not price is refused. */
export interface PriceBook {
  prices: ReadonlyMap<string, FieldPrice>;
  freeFields: ReadonlySet<string>;
  idLists: ReadonlyMap<string, IdListArgument>;
  entityLists: ReadonlyMap<string, string>;
  /** Every source some price calls, in the order the parts name them: the cost plugin walks the operation once per source. */
  vendors: readonly VendorName[];
}

/** Joins the parts' declarations; two parts pricing the same field is a programming error, refused at start. */
export function priceBook(parts: readonly PricedPart[]): PriceBook {
  const prices = new Map<string, FieldPrice>();
  const freeFields = new Set<string>();
  const idLists = new Map<string, IdListArgument>();
  const entityLists = new Map<string, string>();
  const vendors = new Set<VendorName>();
  const add = <V>(map: Map<string, V>, key: string, value: V, what: string): void => {
    if (map.has(key)) throw new Error(`${what} ${key} is declared by two parts of the graph`);
    map.set(key, value);
  };
  for (const part of parts) {
    for (const [k, v] of Object.entries(part.prices)) {
      add(prices, k, v, "the price of");
      for (const vendor of Object.keys(v.calls)) vendors.add(vendor);
      if (v.plan) vendors.add(v.plan.vendor);
    }
    for (const f of part.freeFields ?? []) {
      if (prices.has(f) || freeFields.has(f)) throw new Error(`${f} is both priced and free, or free twice`);
      freeFields.add(f);
    }
    for (const [k, v] of Object.entries(part.idLists ?? {})) add(idLists, k, v, "the id list of");
    for (const [k, v] of Object.entries(part.entityLists ?? {})) add(entityLists, k, v, "the entity list of");
  }
  return { prices, freeFields, idLists, entityLists, vendors: [...vendors] };
}

/** Building blocks for prices. */
export const one = (): number => 1;
/** The length of a list argument (a single value counts 1, null or absent 0). */
export const lengthOf =
  (arg: string) =>
  (args: Record<string, unknown>): number => {
    const v = args[arg];
    return Array.isArray(v) ? v.length : v === undefined || v === null ? 0 : 1;
  };
/** A `first` argument with its default, clamped to [0, max]. */
export const firstArg =
  (defaultFirst: number, max: number) =>
  (args: Record<string, unknown>): number => {
    const first = typeof args.first === "number" && Number.isInteger(args.first) ? args.first : defaultFirst;
    return Math.min(max, Math.max(0, first));
  };

/**
 * Whether a field selects one of `names` directly below it (inline fragments included), or might through a
 * named fragment (the estimator does not see fragments: assume so). For fields whose own calls depend on
 * what is selected.
 */
export function maySelect(node: FieldNode, names: readonly string[]): boolean {
  const walk = (set: SelectionSetNode | undefined): boolean =>
    (set?.selections ?? []).some((s) =>
      s.kind === Kind.FIELD ? names.includes(s.name.value) : s.kind === Kind.FRAGMENT_SPREAD || walk(s.selectionSet),
    );
  return walk(node.selectionSet);
}
