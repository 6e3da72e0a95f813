import type { GraphQLResolveInfo, GraphQLSchema } from "graphql";
import { getMetadataStorage, type ContainerType, type ResolverData } from "type-graphql";
import type { Context } from "../context";
import type { GraphPart } from "../graphql/graph-part";
import { assertAccess, type SourceAccess } from "./assert-scope";

// type-graphql's own type for resolver classes.
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type ResolverClass = Function;

interface Guarded {
  instance: object;
  /** What every field of the class needs, but those the part names in `fieldReads`. */
  access: SourceAccess;
  /** The part's `fieldReads`, by type name then field name (two lookups, no string built per call). */
  byField?: ReadonlyMap<string, ReadonlyMap<string, SourceAccess>>;
}

/**
 * Where a field's scope comes from: the part of the graph whose resolver class declares it, not a call
 * in the resolver. type-graphql asks its container for a resolver class's instance on every call of one
 * of the class's queries and field resolvers, with that call's context and info (its documented
 * `ContainerType.get(class, resolverData)`). This container hands the instance out only to a caller holding
 * the scopes of the part that registered the class, and otherwise throws MissingScopeError: synchronously,
 * before the arguments are validated and before the method runs, so that field alone is null, as
 * FORBIDDEN, and no vendor is called. A class no part registered is refused.
 *
 * A container rather than a wrapper around each field: type-graphql consults one on every such call
 * anyway (its default is a linear search), so the check adds a Map lookup and a Set lookup, and no call.
 */
export class PartScopes implements ContainerType {
  private readonly classes = new Map<ResolverClass, Guarded>();

  constructor(parts: readonly GraphPart[]) {
    for (const part of parts) {
      checkReads(part);
      const access: SourceAccess = { every: part.reads };
      const byField = fieldMap(part);
      for (const resolverClass of part.resolvers) {
        if (this.classes.has(resolverClass)) throw new Error(`${resolverClass.name} is registered by two parts of the graph`);
        this.classes.set(resolverClass, { instance: new (resolverClass as new () => object)(), access, byField });
      }
    }
  }

  get(someClass: ResolverClass, { context, info }: ResolverData<Context>): object {
    const guarded = this.classes.get(someClass);
    if (guarded === undefined) throw new Error(`the resolver class ${someClass.name} belongs to no part of the graph`);
    assertAccess(context, guarded.byField?.get(info.parentType.name)?.get(info.fieldName) ?? guarded.access);
    return guarded.instance;
  }
}

/** A part must say what it reads (an empty list would make its fields public), and a field no more than that. */
function checkReads(part: GraphPart): void {
  if (part.reads.length === 0) throw new Error(`the graph part ${part.name} names no source in reads`);
  for (const [field, access] of Object.entries(part.fieldReads ?? {})) {
    const sources = "anyOf" in access ? access.anyOf : access.every;
    if (sources.length === 0 || sources.some((s) => !part.reads.includes(s)))
      throw new Error(`${part.name}'s fieldReads of ${field} must name some of the part's reads (${part.reads.join(", ")})`);
  }
}

function fieldMap(part: GraphPart): Map<string, Map<string, SourceAccess>> | undefined {
  if (part.fieldReads === undefined) return undefined;
  const byType = new Map<string, Map<string, SourceAccess>>();
  for (const [name, access] of Object.entries(part.fieldReads)) {
    const m = /^(\w+)\.(\w+)$/.exec(name);
    if (!m) throw new Error(`${part.name}'s fieldReads key ${name} is not Type.field`);
    if (!byType.has(m[1]!)) byType.set(m[1]!, new Map());
    byType.get(m[1]!)!.set(m[2]!, access);
  }
  return byType;
}

type ReferenceResolver = (reference: Readonly<Record<string, unknown>>, context: Context, info: GraphQLResolveInfo) => Promise<unknown>;

/**
 * The `_entities` door: @apollo/subgraph calls an entity type's `__resolveReference` outside type-graphql,
 * so it gets the same check here, with the scopes of the part that declares the entity (its
 * `entityLists`). An entity no part declares is refused at start-up. A refusal rejects rather than
 * throws: @apollo/subgraph resolves the representations in one `map`, where a throw would fail them all.
 */
export function guardReference(parts: readonly GraphPart[], typeName: string, resolve: ReferenceResolver): ReferenceResolver {
  const owners = parts.filter((p) => p.entityLists?.[typeName] !== undefined);
  if (owners.length !== 1) throw new Error(`the entity ${typeName} must be declared (entityLists) by exactly one part of the graph`);
  const access: SourceAccess = { every: owners[0]!.reads };
  return (reference, context, info) => {
    try {
      assertAccess(context, access);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return resolve(reference, context, info);
  };
}

/**
 * Fail closed on the one kind of resolver the container never sees: a field computed by a method of the
 * type class itself (`@Field()` on a method of an `@ObjectType`, type-graphql's "internal" field
 * resolvers), which may take the context and reach a vendor. Refused at start-up; declare it in a
 * resolver class of its part (`@FieldResolver`). Getters take no context and stay allowed.
 */
export function refuseComputedFields(schema: GraphQLSchema): void {
  const storage = getMetadataStorage();
  for (const resolver of storage.fieldResolvers) {
    if (resolver.kind !== "internal") continue;
    const type = [...storage.objectTypes, ...storage.interfaceTypes].find((t) => t.target === resolver.target);
    const descriptor = Object.getOwnPropertyDescriptor((resolver.target as { prototype: object }).prototype, resolver.methodName);
    if (type !== undefined && schema.getType(type.name) !== undefined && typeof descriptor?.value === "function")
      throw new Error(
        `${type.name}.${resolver.schemaName} is a method of the type class, which no part's scope protects: declare it with @FieldResolver in a resolver class of its part`,
      );
  }
}
