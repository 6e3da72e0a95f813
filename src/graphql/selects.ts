import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from "graphql";

/**
 * Whether the field being resolved selects `path` below it (`["evidence"]`, `["edges", "node", "evidence"]`),
 * through fragments and inline fragments whatever their type condition: lets a loader ask the vendor for
 * what only some queries need (Defender's `$expand=evidence`).
 */
export function selectsPath(info: GraphQLResolveInfo, path: readonly string[]): boolean {
  let level: Array<SelectionSetNode | undefined> = info.fieldNodes.map((n) => n.selectionSet);
  for (const name of path) {
    const found = fieldsNamed(level, name, info.fragments);
    if (found.length === 0) return false;
    level = found.map((f) => f.selectionSet);
  }
  return true;
}

/** `selectsPath(info, [name])`. */
export function selectsField(info: GraphQLResolveInfo, name: string): boolean {
  return selectsPath(info, [name]);
}

/** The fields called `name` in these selection sets, fragments flattened into their level. */
function fieldsNamed(
  sets: ReadonlyArray<SelectionSetNode | undefined>,
  name: string,
  fragments: GraphQLResolveInfo["fragments"],
): FieldNode[] {
  const out: FieldNode[] = [];
  const seen = new Set<string>();
  const walk = (set: SelectionSetNode | undefined): void => {
    for (const s of set?.selections ?? []) {
      if (s.kind === Kind.FIELD) {
        if (s.name.value === name) out.push(s);
      } else if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet);
      else if (!seen.has(s.name.value)) {
        seen.add(s.name.value);
        walk(fragments[s.name.value]?.selectionSet);
      }
    }
  };
  for (const set of sets) walk(set);
  return out;
}
