import type { ApolloServerPlugin, BaseContext, GraphQLRequestListener } from "@apollo/server";
import { costLimitRule } from "@escape.tech/graphql-armor-cost-limit";
import { maxAliasesRule } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesRule } from "@escape.tech/graphql-armor-max-directives";
import {
  GraphQLError,
  getNamedType,
  getVariableValues,
  isCompositeType,
  Kind,
  visit,
  type DocumentNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValidationContext,
  type ValidationRule,
} from "graphql";
import { getComplexity, type ComplexityEstimator } from "graphql-query-complexity";
import type { CallBudgets, Deadline } from "../upstream/deadline";
import { clip } from "../observability/log-bounds";
import { registeredSources, type SourceName } from "../upstream/source";
import type { PlanPrice, PriceBook, VendorName } from "./price-book";
import { variablesProblem } from "./variable-limits";

export interface OperationLimits {
  maxDepth: number;
  maxAliases: number;
  /** Fields the operation selects, fragments expanded at every spread (a literal `first:` multiplies its page). */
  maxFields: number;
  maxDirectives: number;
  /** Lexical tokens in the document, checked by graphql-js's own parser while it parses. */
  maxTokens: number;
  /** Worst-case vendor calls of the whole operation, every source together. */
  maxCost: number;
  /**
   * Worst-case calls of the operation to each source that declares a cap of its own (`costLimit` in its
   * register.ts: Defender's scarce budget, 100 a minute for the whole app, is MAX_DEFENDER_COST).
   */
  sourceCost: Readonly<Record<SourceName, number>>;
  /** Most ids one list argument may carry, per list field. */
  maxListIds: Record<string, number>;
  /** How many tenants the deployment has: `Query.tenants` runs its selection that many times at most (default 1). */
  tenants?: number;
  /**
   * HTTP attempts an operation may make beyond its price to a source with a cap of its own, for retries
   * (UPSTREAM_MAX_RETRIES: one call's worth), never past that cap. Absent: none.
   */
  retryReserve?: number;
}

export const OPERATION_LIMIT_CODE = "OPERATION_LIMIT_EXCEEDED";

/**
 * The shape limits, as validation rules from graphql-armor: each counts on the operation as it will
 * execute (a fragment counts at every spread) and memoises each fragment, so analysis is linear in the
 * document whatever its fragments. Rejections are reported in usergraph's words (which limit, which
 * setting raises it) instead of armor's. Introspection: `__schema` is exempt from MAX_DEPTH (the standard
 * introspection query is 13+ levels deep) but not from MAX_FIELDS, and graphql-js's own
 * MaxIntrospectionDepthRule (a specified rule, so always on) bounds its list nesting.
 */
export function operationValidationRules(limits: OperationLimits): ValidationRule[] {
  const report = (what: string, setting: string, max: number) => (context: ValidationContext | null, err: GraphQLError) => {
    // armor's message ends with "found N." when exposeLimits is on: the one number its hook does not pass.
    const actual = Number(/found (\d+(?:\.\d+)?(?:e\+\d+)?)/.exec(err.message)?.[1] ?? NaN);
    const count = actual >= 1e15 ? `more than 10^15 ${what}` : `${actual} ${what}`;
    const shown = Number.isFinite(actual) ? (what === "depth" ? `a depth of ${actual}` : count) : `more ${what} than allowed`;
    context?.reportError(
      new GraphQLError(`The operation has ${shown}; the limit is ${max} (${setting}).`, {
        extensions: { code: OPERATION_LIMIT_CODE, limit: setting, max, ...(Number.isFinite(actual) ? { actual } : {}) },
      }),
    );
  };
  const common = { exposeLimits: true, propagateOnRejection: false };
  return [
    maxDepthRule({
      ...common,
      n: limits.maxDepth,
      flattenFragments: true,
      ignoreIntrospection: true,
      onReject: [report("depth", "MAX_DEPTH", limits.maxDepth)],
    }),
    maxAliasesRule({ ...common, n: limits.maxAliases, allowList: [], onReject: [report("aliases", "MAX_ALIASES", limits.maxAliases)] }),
    maxDirectivesRule({ ...common, n: limits.maxDirectives, onReject: [report("directives", "MAX_DIRECTIVES", limits.maxDirectives)] }),
    // armor's cost limit with unit weights is the expanded field count.
    costLimitRule({
      ...common,
      maxCost: limits.maxFields,
      objectCost: 1,
      scalarCost: 1,
      depthCostFactor: 1,
      flattenFragments: true,
      ignoreIntrospection: false,
      onReject: [report("fields", "MAX_FIELDS", limits.maxFields)],
    }),
  ] as ValidationRule[];
}

/**
 * After validation, with the variables coerced as graphql-js will execute them (defaults included):
 * every id list within its per-source limit, and the operation's worst-case vendor calls within each
 * source's own cap (MAX_DEFENDER_COST) and MAX_COST. graphql-query-complexity walks the operation (bounded by its
 * maxQueryNodes, and after MAX_FIELDS has bounded the expansion); the prices are usergraph's own
 * (src/limits/price-book.ts). Refused operations never reach a resolver, so no vendor is called.
 */
export function operationCostPlugin(pricer: OperationPricer): ApolloServerPlugin {
  // One listener, and one settled promise of it, for every request: it keeps no per-request state.
  const listener: GraphQLRequestListener<BaseContext> = {
    async didResolveOperation({ document, request, operation, contextValue }) {
      if (!operation) return;
      const seen = (contextValue as Partial<TenantCount> | undefined)?.tenantsVisible;
      const outcome = pricer.check(document, operation, request.variables ?? {}, seen && (() => seen.call(contextValue)));
      if (outcome instanceof GraphQLError) throw outcome;
      if (outcome === null) return;
      const deadline = (contextValue as { deadline?: Deadline } | undefined)?.deadline;
      if (deadline) pricer.promise(outcome, deadline);
    },
  };
  const listening = Promise.resolve(listener);
  return { requestDidStart: () => listening };
}

/** A request context that can say how many tenants its caller sees (src/context.ts). */
interface TenantCount {
  tenantsVisible(): number;
}

/**
 * Pricing one operation with its variables, for the cost plugin (Apollo's pipeline) and the fast path of
 * registered documents (src/documents/fast-path.ts) alike, so both refuse with the same codes and words.
 */
export class OperationPricer {
  // The walk costs ~35 µs a vendor on this schema, a third of a cached answer's whole budget: its outcome
  // is kept per document (Apollo hands out the same DocumentNode for the same query text, the fast path
  // keeps one per registered document) and per shape of the variables, which is all a price depends on.
  private readonly priced = new WeakMap<DocumentNode, Map<string, Priced>>();
  // The variables a document's `tenant(id:)` fields read, and whether it selects `tenants`: a price depends on
  // which tenants they name, and on how many the caller sees.
  private readonly tenantFields = new WeakMap<DocumentNode, TenantFields>();

  constructor(
    private readonly limits: OperationLimits,
    private readonly schema: GraphQLSchema,
    private readonly book: PriceBook,
  ) {}

  /**
   * The refusal (too many ids, over a price limit, a variable value refused before any walk), the price,
   * or null when the variables do not coerce (graphql-js refuses that itself, before anything runs).
   */
  check(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Record<string, unknown>,
    /** How many tenants `Query.tenants` lists for this caller (asked only of a document that selects it); default `limits.tenants`. */
    tenantsSeen?: () => number,
  ): GraphQLError | Priced | null {
    // First: the walks below (and graphql-js's) recurse, and a lone surrogate breaks every URL and key.
    const refused = variablesProblem(variables);
    if (refused) return refused;
    let tenantFields = this.tenantFields.get(document);
    if (!tenantFields) this.tenantFields.set(document, (tenantFields = tenantFieldsOf(document)));
    const idVariables = tenantFields.idVariables;
    let shape = `${operation.name?.value ?? ""}|${priceShape(variables)}`;
    if (idVariables.length > 0) shape += `|${JSON.stringify(idVariables.map((name) => variables[name]))}`;
    // `tenants { … }` runs once per tenant the caller sees, not per tenant the deployment has: a caller of 2
    // among 200 pays for 2 (and the demo's open caller for its 2, where the configured count says 1).
    let limits = this.limits;
    if (tenantFields.listsTenants && tenantsSeen) {
      const seen = tenantsSeen();
      if (seen !== (limits.tenants ?? 1)) limits = { ...limits, tenants: seen };
      shape += `|${seen}`;
    }
    let byShape = this.priced.get(document);
    let outcome: Priced | null | undefined = byShape?.get(shape);
    if (outcome === undefined) {
      outcome = price(limits, this.book, this.schema, document, operation, variables);
      // Only a finished pricing is remembered: a walk refused by coercion errors is never taken as a price.
      if (outcome !== null) {
        if (!byShape) this.priced.set(document, (byShape = new Map()));
        // Bounded per document; one more entry per tenant when `tenant(id: $var)` makes the tenant part of the shape.
        if (byShape.size < 64 + (idVariables.length > 0 ? (this.limits.tenants ?? 1) : 0)) byShape.set(shape, outcome);
      }
    }
    if (outcome === null) return null;
    if (outcome.problems.length > 0) return limitError(outcome.problems);
    return outcome;
  }

  /**
   * The price is a promise to the quota of each source with a cap of its own: the request may not make
   * more calls than it (Deadline.spendCall), and every attempt counts, so retries get a small reserve
   * and the vendor never sees more than its cap (MAX_DEFENDER_COST).
   */
  promise(outcome: Priced, deadline: Deadline): void {
    deadline.callBudget = outcome.callBudget;
    deadline.attemptBudget = outcome.attemptBudget;
    if (outcome.tenantBudgets) deadline.tenantBudgets = outcome.tenantBudgets;
  }
}

/**
 * An operation's price: what exceeds a limit (nothing: it may run), and for each source with a cap of its
 * own, the calls it may make (its price) and the attempts (its price plus the retry reserve, within the cap).
 */
export interface Priced {
  problems: string[];
  /** With tenant fields: the share of any tenant the operation does not name (its root fields and `tenants`). */
  callBudget: Record<SourceName, number>;
  attemptBudget: Record<SourceName, number>;
  /** Each tenant `tenant(id:)` names: its own share (root fields, `tenants`, and its aliases). */
  tenantBudgets?: ReadonlyMap<string, CallBudgets>;
}

/**
 * Where an operation's calls go, per source. A vendor's quota is per tenant (Defender's 100 a minute is
 * each customer tenant's), so a source's cap (MAX_DEFENDER_COST) and the run-time budget apply to each
 * tenant's share: `root` (root fields, answered for the caller's one tenant), `every` (`tenants { … }`,
 * once for each tenant) and `named` (`tenant(id:)`, by the id it names; aliases naming one id add up, as
 * they share that tenant's loaders). A tenant's share is root + every + its named part; the whole
 * operation (MAX_COST) is root + every × tenants + every named part.
 */
interface Shares {
  root: number;
  every: number;
  named: Map<string, number>;
}

const noShares = (): Shares => ({ root: 0, every: 0, named: new Map() });

/**
 * Wraps an estimator to record, at each field of Query (walked after its selection), whose share its value
 * is. `occurrences`, when given, is a plan walk's counter: how many of the plan's fields ran below each
 * root field, attributed the same way (the walk visits a root field's selection just before the field).
 */
function sharing(
  estimator: ComplexityEstimator,
  shares: Shares,
  occurrences?: { count: number; attributed: number; shares: Shares },
): ComplexityEstimator {
  const add = (into: Shares, field: string, id: unknown, value: number, child: number): void => {
    if (field === "tenant") into.named.set(String(id), (into.named.get(String(id)) ?? 0) + value);
    else if (field === "tenants") into.every += child;
    else into.root += value;
  };
  return (a) => {
    const value = estimator(a);
    if (a.type.name !== "Query" || typeof value !== "number") return value;
    add(shares, a.field.name, a.args.id, value, a.childComplexity);
    if (occurrences) {
      const seen = occurrences.count - occurrences.attributed;
      occurrences.attributed = occurrences.count;
      add(occurrences.shares, a.field.name, a.args.id, seen, seen);
    }
    return value;
  };
}

interface TenantFields {
  /** The variables the `tenant(id:)` fields read their id from (any field so named: a superset is safe). */
  idVariables: readonly string[];
  /** Whether any field is named `tenants` (a superset of `Query.tenants` is safe: it only adds a shape key). */
  listsTenants: boolean;
}

function tenantFieldsOf(document: DocumentNode): TenantFields {
  const names = new Set<string>();
  let listsTenants = false;
  visit(document, {
    Field(node) {
      if (node.name.value === "tenants") listsTenants = true;
      if (node.name.value !== "tenant") return;
      for (const arg of node.arguments ?? []) if (arg.value.kind === Kind.VARIABLE) names.add(arg.value.name.value);
    },
  });
  return { idVariables: [...names], listsTenants };
}

/** The operation's price and its problems (none: within every limit), or null when its variables do not coerce. */
function price(
  limits: OperationLimits,
  book: PriceBook,
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
): Priced | null {
  // Variables that do not coerce stop the whole request in graphql-js before anything runs: that, and only
  // that, is left to graphql-js. Decided here with graphql-js's own coercion, never from an error's text.
  if (getVariableValues(schema, operation.variableDefinitions ?? [], variables).errors) return null;
  const problems: string[] = [];
  const walk = (estimator: ComplexityEstimator): number =>
    getComplexity({
      schema,
      query: document,
      operationName: operation.name?.value,
      variables,
      estimators: [estimator],
      maxQueryNodes: MAX_PRICED_NODES,
    });
  const notes: WalkNotes = { plans: new Set(), unpriced: new Set() };
  const calls = new Map<SourceName, Shares>();
  const tenantsRun = limits.tenants ?? 1;
  try {
    // One walk per source the prices name; id lists are checked on the first (a book with no source still walks once).
    const vendors = book.vendors.length > 0 ? book.vendors : [""];
    vendors.forEach((vendor, i) => {
      const shares = noShares();
      walk(sharing(vendorCallEstimator(vendor, limits, book, i === 0 ? problems : undefined, notes), shares));
      calls.set(vendor, shares);
    });
    // Planned relations are priced for the whole operation (price-book.ts PlanPrice): one more walk per plan
    // used. A plan group is one tenant's (its loaders'), so each share is priced as a plan of its own.
    for (const plan of notes.plans) {
      const { vendor, perGroup, groupPerOccurrence, listingPages } = plan;
      const runs = noShares();
      const occurrences = { count: 0, attributed: 0, shares: noShares() };
      walk(
        sharing(
          vendorCallEstimator(vendor, limits, book, undefined, undefined, { plan, onOccurrence: () => occurrences.count++ }),
          runs,
          occurrences,
        ),
      );
      const planned = (run: number, occurred: number): number => {
        const groups = groupPerOccurrence ? occurred : 1;
        // One key never lists (listingPays); two or more may list and still ask the keys it does not answer.
        return Math.min(run >= 2 ? run + groups * listingPages : run, groups * perGroup);
      };
      const shares = calls.get(vendor) ?? noShares();
      shares.root += planned(runs.root, occurrences.shares.root);
      shares.every += planned(runs.every, occurrences.shares.every);
      for (const [id, run] of runs.named)
        shares.named.set(id, (shares.named.get(id) ?? 0) + planned(run, occurrences.shares.named.get(id) ?? 0));
      calls.set(vendor, shares);
    }
  } catch (err) {
    // Fail closed: a walk that does not finish (too many nodes, an argument that does not coerce on one
    // field, which graphql-js would only fail on that field while running the rest) is refused.
    return {
      problems: [`it could not be priced (${err instanceof Error ? err.message.slice(0, 160) : "unknown"})`],
      callBudget: {},
      attemptBudget: {},
    };
  }
  if (notes.unpriced.size > 0) {
    // Fail closed: a field that may call a vendor and has no price could hide any number of calls.
    problems.push(`it selects ${[...notes.unpriced].sort().join(", ")}, which usergraph cannot price, so it refuses them`);
  }
  const named = new Set<string>();
  let perTenant = false;
  for (const shares of calls.values()) {
    for (const id of shares.named.keys()) named.add(id);
    if (shares.every > 0 || shares.named.size > 0) perTenant = true;
  }
  const callBudget: Record<SourceName, number> = {};
  const attemptBudget: Record<SourceName, number> = {};
  const tenantBudgets = new Map([...named].map((id) => [id, { callBudget: {}, attemptBudget: {} }] as const));
  for (const source of registeredSources()) {
    if (!source.costLimit) continue;
    const shares = calls.get(source.name) ?? noShares();
    // Fail closed: a source that declares a cap and has no value for it gets none of its calls.
    const max = limits.sourceCost[source.name] ?? 0;
    const budget = (made: number, into: Required<CallBudgets>): void => {
      into.callBudget[source.name] = made;
      into.attemptBudget[source.name] = Math.min(max, made + (limits.retryReserve ?? 0));
    };
    // The cap is per tenant: the largest share is the one that must fit (any tenant not named: root + every).
    let largest = { made: shares.root + shares.every, where: perTenant ? " in each tenant" : "" };
    budget(largest.made, { callBudget, attemptBudget });
    for (const id of named) {
      const made = shares.root + shares.every + (shares.named.get(id) ?? 0);
      budget(made, tenantBudgets.get(id)!);
      if (made > largest.made) largest = { made, where: ` in tenant "${clip(id)}"` };
    }
    if (largest.made > max)
      problems.push(
        `it may make ${largest.made} ${source.short} calls${largest.where}; the limit is ${max} (${source.costLimit.setting}${perTenant ? ", per tenant" : ""})`,
      );
  }
  // MAX_COST bounds the whole operation's work, whatever tenants it spans.
  let total = 0;
  for (const { root, every, named: byId } of calls.values()) {
    total += root + every * tenantsRun;
    for (const made of byId.values()) total += made;
  }
  if (total > limits.maxCost) problems.push(`its cost is ${total} vendor calls; the limit is ${limits.maxCost} (MAX_COST)`);
  return { problems, callBudget, attemptBudget, tenantBudgets: tenantBudgets.size > 0 ? tenantBudgets : undefined };
}

/**
 * graphql-query-complexity re-walks a fragment at every spread (~1.8 µs a node here): the walk is capped
 * so that one uncached pricing costs at most ~10 ms per vendor. Far above any operation in
 * schema/operations/ or the standard introspection query; MAX_FIELDS refuses most larger ones earlier.
 */
const MAX_PRICED_NODES = 5_000;

/**
 * What of the variables a price can depend on: list lengths, numbers, booleans (`@skip` / `@include`) and
 * `__typename`s (federation representations). Strings are blanked and lists of scalars become their length,
 * so 25 different ids share one entry. Hand-written because it must mirror price-book.ts exactly.
 */
export function priceShape(variables: Record<string, unknown>): string {
  return JSON.stringify(variables, function (this: unknown, key: string, value: unknown) {
    if (typeof value === "string") return key === "__typename" ? value : "";
    if (Array.isArray(value) && value.every((x) => x === null || typeof x !== "object")) return `#${value.length}`;
    return value;
  });
}

function limitError(problems: string[]): GraphQLError {
  return new GraphQLError(`The operation exceeds usergraph's limits: ${problems.join("; ")}.`, {
    extensions: { code: OPERATION_LIMIT_CODE, problems, http: { status: 400 } },
  });
}

/**
 * Prices one field in calls to one vendor: its own calls plus its children's, times how many times it
 * runs. Id lists are checked against their limits on the coerced arguments, so a variable's default
 * value counts exactly like a value the client sent.
 */
function vendorCallEstimator(
  vendor: VendorName,
  limits: OperationLimits,
  book: PriceBook,
  problems?: string[],
  notes?: WalkNotes,
  /** Instead of calls: how many times this plan's fields run, their per-run calls summed (price-book.ts PlanPrice). */
  runsOf?: { plan: PlanPrice; onOccurrence: () => void },
): ComplexityEstimator {
  return ({ type, field, args, childComplexity, node }) => {
    const shown = node.alias?.value ?? field.name;
    if (type.name === "Query" && field.name === "_entities") {
      const perType = new Map<string, number>();
      const reps = Array.isArray(args.representations) ? args.representations : [args.representations];
      for (const r of reps) {
        const typename =
          typeof r === "object" && r !== null && typeof (r as Record<string, unknown>).__typename === "string"
            ? String((r as Record<string, unknown>).__typename)
            : "";
        perType.set(typename, (perType.get(typename) ?? 0) + 1);
      }
      let calls = 0;
      for (const [typename, count] of perType) {
        const listField = book.entityLists.get(typename);
        if (listField === undefined) continue;
        const max = limits.maxListIds[listField] ?? Infinity;
        if (count > max)
          problems?.push(
            `${shown}(representations:) has ${count} ${typename} representations; the limit is ${max} (${book.idLists.get(listField)?.setting ?? "its list limit"})`,
          );
        calls += count * ((!runsOf && book.prices.get(`Query.${listField}`)?.calls[vendor] ? 1 : 0) + childComplexity);
      }
      return calls;
    }
    // `Tenant` carries every root field of Query (src/tenant-schema.ts), at the root field's price and limits;
    // `tenant(id:)` runs its selection once, `tenants` once per tenant the caller sees (`limits.tenants`, set per
    // caller by OperationPricer.check; the deployment's count where no caller is known).
    const root = type.name === "Query" || type.name === "Tenant";
    if (type.name === "Query" && field.name === "tenant") return childComplexity;
    if (type.name === "Query" && field.name === "tenants") return (limits.tenants ?? 1) * childComplexity;
    const list = root ? book.idLists.get(field.name) : undefined;
    if (list) {
      const value = args[list.arg];
      const length = Array.isArray(value) ? value.length : value === undefined || value === null ? 0 : 1;
      const max = limits.maxListIds[field.name] ?? Infinity;
      if (length > max) problems?.push(`${shown}(${list.arg}:) has ${length} ids; the limit is ${max} (${list.setting})`);
    }
    const name = `${root ? "Query" : type.name}.${field.name}`;
    const price = book.prices.get(name);
    if (!price) {
      if (needsPrice(type, field, name, book)) notes?.unpriced.add(name);
      return childComplexity;
    }
    if (runsOf) {
      if (price.plan !== runsOf.plan) return price.times(args) * childComplexity;
      runsOf.onOccurrence();
      return runsOf.plan.perRun(args, node) + price.times(args) * childComplexity;
    }
    if (price.plan && price.plan.vendor === vendor) notes?.plans.add(price.plan);
    return (price.calls[vendor]?.(args, node) ?? 0) + price.times(args) * childComplexity;
  };
}

interface WalkNotes {
  /** Plans whose fields the operation selects, priced by a walk of their own. */
  plans: Set<PlanPrice>;
  /** Fields that may call a vendor and have no price. */
  unpriced: Set<string>;
}

/**
 * Which fields must have a price: every root field, every field with arguments, every field that returns
 * an object (an entity or a list of them may be fetched), unless the book lists it as free: a plain part of an
 * entity already fetched. Scalars and enums without arguments are read off their parent.
 */
function needsPrice(type: GraphQLNamedType, field: GraphQLField<unknown, unknown>, name: string, book: PriceBook): boolean {
  // Introspection (`__schema`, `__type`, and every field of the `__Schema`, `__Type`, … types) never calls a vendor.
  if (field.name.startsWith("__") || type.name.startsWith("__") || book.freeFields.has(name)) return false;
  if (type.name === "Tenant" && (field.name === "id" || field.name === "name")) return false;
  return type.name === "Query" || type.name === "Tenant" || field.args.length > 0 || isCompositeType(getNamedType(field.type));
}
