import type { ApolloServerPlugin } from "@apollo/server";
import {
  GraphQLError,
  Kind,
  type ArgumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValueNode,
} from "graphql";

export interface OperationLimits {
  maxDepth: number;
  maxAliases: number;
  maxFields: number;
  maxCost: number;
  /** Most ids one list argument may carry, per list field. */
  maxListIds: Record<string, number>;
}

/** Which list argument of which field carries ids, and the variable that limits it (for messages). */
export const LIST_ARGUMENTS: Record<string, { arg: string; setting: string }> = {
  defenderUsers: { arg: "ids", setting: "MAX_DEFENDER_IDS" },
  esetUsers: { arg: "uuids", setting: "MAX_ESET_IDS" },
};

/**
 * Federation subgraph mode: `_entities(representations:)` is an id list too, mixed by `__typename`. Each
 * entity type is held to the limit of the list field that loads the same ids.
 */
export const ENTITY_LIST_FIELDS: Record<string, string> = {
  DefenderUser: "defenderUsers",
  EsetUser: "esetUsers",
};

/**
 * Paged fields: a page of `first` items (default when absent, clamped to the field's own maximum, which its
 * argument check enforces with BAD_USER_INPUT) costs like an id list of that length.
 */
export const PAGED_FIELDS: Record<string, { arg: string; default: number; max: number }> = {
  esetUserList: { arg: "first", default: 50, max: 1000 },
};

/**
 * Link fields fan out to the other vendor: up to 8 Defender GETs for an ESET user's links (src/graphql/
 * link-finder.ts), up to 2 ESET searches for a Defender account's. Each costs its children times this, so
 * asking for the links of a long list is priced like the calls it makes. `defenderUsers` / `esetUsers`
 * count as links only without their id-list argument (then they are the EsetUser / DefenderUser / Person
 * fields, not the queries).
 */
export const LINK_FIELDS = new Set(["defenderUsers", "esetUsers", "defenderLinks", "esetLinks"]);
export const LINK_FANOUT = 8;

export const OPERATION_LIMIT_CODE = "OPERATION_LIMIT_EXCEEDED";

/**
 * A validation rule that measures each operation before anything runs: selection depth, aliases and
 * field count (fragments expanded once each). Errors name the limit and the setting that raises it.
 */
export function operationShapeRule(limits: OperationLimits) {
  return (context: ValidationContext) => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const def of context.getDocument().definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    return {
      OperationDefinition(node: OperationDefinitionNode) {
        const stats = { aliases: 0, fields: 0, depth: 0 };
        measure(node.selectionSet, 1, fragments, new Set(), stats);
        const over: Array<[string, string, number, number]> = [];
        if (stats.depth > limits.maxDepth) over.push(["depth", "MAX_DEPTH", limits.maxDepth, stats.depth]);
        if (stats.aliases > limits.maxAliases) over.push(["aliases", "MAX_ALIASES", limits.maxAliases, stats.aliases]);
        if (stats.fields > limits.maxFields) over.push(["fields", "MAX_FIELDS", limits.maxFields, stats.fields]);
        for (const [what, setting, max, actual] of over) {
          context.reportError(
            new GraphQLError(`The operation has ${what === "depth" ? `a depth of ${actual}` : `${actual} ${what}`}; the limit is ${max} (${setting}).`, {
              nodes: [node],
              extensions: { limit: setting, max, actual },
            }),
          );
        }
      },
    };
  };
}

function measure(
  set: SelectionSetNode,
  depth: number,
  fragments: Map<string, FragmentDefinitionNode>,
  seen: Set<string>,
  stats: { aliases: number; fields: number; depth: number },
): void {
  // One pass over the document (each fragment once), so the cost is linear in a body already capped by
  // MAX_BODY_BYTES.
  stats.depth = Math.max(stats.depth, depth);
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      stats.fields++;
      if (sel.alias) stats.aliases++;
      if (sel.selectionSet) measure(sel.selectionSet, depth + 1, fragments, seen, stats);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      measure(sel.selectionSet, depth, fragments, seen, stats);
    } else if (!seen.has(sel.name.value)) {
      seen.add(sel.name.value);
      const fragment = fragments.get(sel.name.value);
      if (fragment) measure(fragment.selectionSet, depth, fragments, seen, stats);
    }
  }
}

/**
 * After validation, with variables known: every id list within its per-source limit, and the operation's
 * cost within MAX_COST, where a field costs 1 plus its children and an id-list field costs its length times
 * that. In subgraph mode `_entities(representations:)` counts as such a list, per `__typename`. Refused
 * operations never reach a resolver, so no vendor is called.
 */
export function operationCostPlugin(limits: OperationLimits): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, request }) {
          if (!operation) return;
          const fragments = new Map<string, FragmentDefinitionNode>();
          for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
          const variables = request.variables ?? {};
          const problems: string[] = [];
          const cost = costOf(operation.selectionSet, fragments, variables, limits, problems, new Set());
          if (cost > limits.maxCost) problems.push(`its cost is ${cost}; the limit is ${limits.maxCost} (MAX_COST)`);
          if (problems.length > 0) {
            throw new GraphQLError(`The operation exceeds usergraph's limits: ${problems.join("; ")}.`, {
              extensions: { code: OPERATION_LIMIT_CODE, problems, http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}

function costOf(
  set: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
  limits: OperationLimits,
  problems: string[],
  seen: Set<string>,
): number {
  let total = 0;
  for (const sel of set.selections) {
    if (sel.kind === Kind.INLINE_FRAGMENT) {
      total += costOf(sel.selectionSet, fragments, variables, limits, problems, seen);
      continue;
    }
    if (sel.kind === Kind.FRAGMENT_SPREAD) {
      const fragment = fragments.get(sel.name.value);
      if (fragment && !seen.has(sel.name.value)) {
        total += costOf(fragment.selectionSet, fragments, variables, limits, problems, new Set([...seen, sel.name.value]));
      }
      continue;
    }
    const children = sel.selectionSet ? costOf(sel.selectionSet, fragments, variables, limits, problems, seen) : 0;
    const representations = sel.name.value === "_entities" ? sel.arguments?.find((a) => a.name.value === "representations") : undefined;
    if (representations) {
      const perType = countByTypename(representations.value, variables);
      for (const [typename, count] of perType) {
        const field = ENTITY_LIST_FIELDS[typename];
        if (field === undefined) continue;
        const max = limits.maxListIds[field] ?? Infinity;
        if (count > max) {
          problems.push(
            `${sel.alias?.value ?? sel.name.value}(representations:) has ${count} ${typename} representations; the limit is ${max} (${LIST_ARGUMENTS[field]?.setting})`,
          );
        }
      }
      const length = [...perType.values()].reduce((a, b) => a + b, 0);
      total += Math.max(1, length) * (1 + children);
      continue;
    }
    const list = LIST_ARGUMENTS[sel.name.value];
    const arg = list && sel.arguments?.find((a) => a.name.value === list.arg);
    if (list && arg) {
      const length = listLength(arg.value, variables);
      const max = limits.maxListIds[sel.name.value] ?? Infinity;
      if (length > max) {
        problems.push(`${sel.alias?.value ?? sel.name.value}(${list.arg}:) has ${length} ids; the limit is ${max} (${list.setting})`);
      }
      total += Math.max(1, length) * (1 + children);
    } else if (PAGED_FIELDS[sel.name.value]) {
      total += Math.max(1, pageLength(sel.name.value, sel.arguments ?? [], variables)) * (1 + children);
    } else if (LINK_FIELDS.has(sel.name.value) && !arg) {
      total += LINK_FANOUT * (1 + children);
    } else {
      total += 1 + children;
    }
  }
  return total;
}

/** The `first` of a paged field, literal or variable, within the field's bounds (its argument check refuses the rest). */
function pageLength(field: string, args: readonly ArgumentNode[], variables: Record<string, unknown>): number {
  const { arg, default: fallback, max } = PAGED_FIELDS[field]!;
  const node = args.find((a) => a.name.value === arg)?.value;
  const value = node === undefined ? undefined : node.kind === Kind.VARIABLE ? variables[node.name.value] : node.kind === Kind.INT ? Number(node.value) : null;
  const n = typeof value === "number" && Number.isInteger(value) ? value : fallback;
  return Math.min(max, Math.max(0, n));
}

function listLength(value: ValueNode, variables: Record<string, unknown>): number {
  if (value.kind === Kind.LIST) return value.values.length;
  if (value.kind === Kind.VARIABLE) {
    const v = variables[value.name.value];
    return Array.isArray(v) ? v.length : 1;
  }
  return 1;
}

/**
 * `_entities(representations:)` entries per `__typename`, whether the list is inline or a variable (a
 * router always sends a variable). An entry without a string `__typename` counts under "" (the subgraph
 * library refuses it later, at no vendor cost).
 */
function countByTypename(value: ValueNode, variables: Record<string, unknown>): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (typename: unknown): void => {
    const key = typeof typename === "string" ? typename : "";
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  const typenameOfValue = (v: unknown): unknown =>
    typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>).__typename : undefined;
  const typenameOfNode = (node: ValueNode): unknown => {
    if (node.kind === Kind.VARIABLE) return typenameOfValue(variables[node.name.value]);
    if (node.kind !== Kind.OBJECT) return undefined;
    const field = node.fields.find((f) => f.name.value === "__typename");
    return field?.value.kind === Kind.STRING ? field.value.value : field?.value.kind === Kind.VARIABLE ? variables[field.value.name.value] : undefined;
  };
  if (value.kind === Kind.LIST) {
    for (const item of value.values) add(typenameOfNode(item));
  } else if (value.kind === Kind.VARIABLE) {
    const v = variables[value.name.value];
    // graphql-js coerces a single value to a one-item list.
    for (const item of Array.isArray(v) ? v : [v]) add(typenameOfValue(item));
  } else {
    add(typenameOfNode(value));
  }
  return counts;
}
