import "reflect-metadata";
import {
  execute,
  getNamedType,
  isCompositeType,
  isNonNullType,
  isObjectType,
  isUnionType,
  parse,
  type ExecutionResult,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
} from "graphql";
import { MissingScopeError } from "../../src/auth/missing-scope.error";
import { scopeOf } from "../../src/auth/scopes";
import { contextFactory, type Context } from "../../src/context";
import { buildSubgraphAppSchema } from "../../src/federation/subgraph-schema";
import { buildAppSchema } from "../../src/schema";
import { DEMO } from "../../src/simulator/demo-data";
import type { SourceName } from "../../src/upstream/source";
import { codes, startStack, type Stack } from "../helpers/stack";

/**
 * Scopes by construction, walked: every field of the schema that does more than read its parent is
 * tried with a caller holding no scope, each scope alone, and both. A field whose scope is missing is
 * refused (MissingScopeError, which clients see as FORBIDDEN) without a call to that vendor; a field whose
 * scope is held answers. The tables below are the test's own expectations, not read from the code: a field
 * added to the graph and missing from them fails here, and so does a field that answers a caller without
 * its scope.
 *
 * Contexts are the gateway's own (its stores, loaders and the simulator behind them); the schema is run
 * directly so that a principal with no scope, which no API key or token can carry, can be tried too.
 */

type Need = "DEFENDER" | "ESET" | "BOTH" | "EITHER" | "PUBLIC";

/** What each field that reaches past its parent needs. */
const NEEDS: Record<string, Need> = {
  "Query.defenderUser": "DEFENDER",
  "Query.defenderUsers": "DEFENDER",
  "Query.defenderMachine": "DEFENDER",
  "Query.defenderAlerts": "DEFENDER",
  "Query.defenderMachines": "DEFENDER",
  "Query.defenderUsersAtRisk": "DEFENDER",
  "Query.esetUser": "ESET",
  "Query.esetUsers": "ESET",
  "Query.esetUserList": "ESET",
  // The ranking joined to ESET's user list: both vendors.
  "Query.peopleAtRisk": "BOTH",
  // Each side of a person is served or refused on its own: one scope reaches the query.
  "Query.person": "EITHER",
  // The subgraph's SDL: it reads the schema, never a vendor.
  "Query._service": "PUBLIC",
  "DefenderUser.mostPrevalentMachine": "DEFENDER",
  "DefenderUser.leastPrevalentMachine": "DEFENDER",
  "DefenderUser.machines": "DEFENDER",
  "DefenderUser.alerts": "DEFENDER",
  "DefenderUser.esetUsers": "ESET",
  "DefenderUser.esetLinks": "ESET",
  "DefenderMachine.loggedOnUsers": "DEFENDER",
  "DefenderMachine.alerts": "DEFENDER",
  "DefenderAlert.machine": "DEFENDER",
  "DefenderUserRisk.alerts": "DEFENDER",
  "DefenderUserRisk.user": "DEFENDER",
  "EsetUser.defenderUsers": "DEFENDER",
  "EsetUser.defenderLinks": "DEFENDER",
  "Person.defenderUsers": "DEFENDER",
  "Person.esetUsers": "ESET",
  "Person.links": "BOTH",
};

/** `_entities`, per entity type: what its lookups need, and a representation the simulator knows. */
const ENTITIES: Record<string, { need: Need; representation: Record<string, unknown> }> = {
  DefenderUser: { need: "DEFENDER", representation: { __typename: "DefenderUser", id: DEMO.defenderAlice } },
  EsetUser: { need: "ESET", representation: { __typename: "EsetUser", uuid: DEMO.esetAlice } },
};

/** A value for every required argument, per field: a required argument missing here fails the walk. */
const REQUIRED_ARGS: Record<string, Record<string, unknown>> = {
  "Query.defenderUser": { id: DEMO.defenderAlice },
  "Query.defenderUsers": { ids: [DEMO.defenderAlice] },
  "Query.defenderMachine": { id: "alice-laptop" },
  "Query.esetUser": { uuid: DEMO.esetAlice },
  "Query.esetUsers": { uuids: [DEMO.esetAlice] },
  "Query.person": { ref: "alice@contoso.com" },
  "Query.defenderUsersAtRisk": { since: "2020-01-01T00:00:00Z" },
  "Query.peopleAtRisk": { since: "2020-01-01T00:00:00Z" },
};

const CALLERS: Record<string, SourceName[]> = {
  "no scope": [],
  "defender:users:read only": ["DEFENDER"],
  "eset:users:read only": ["ESET"],
  "both scopes": ["DEFENDER", "ESET"],
};
const SOURCES: SourceName[] = ["DEFENDER", "ESET"];

function holds(need: Need, held: readonly SourceName[]): boolean {
  switch (need) {
    case "PUBLIC":
      return true;
    case "EITHER":
      return held.length > 0;
    case "BOTH":
      return SOURCES.every((s) => held.includes(s));
    default:
      return held.includes(need);
  }
}

/** The sources a refused field must not have called: those its need names and the caller lacks. */
function missing(need: Need, held: readonly SourceName[]): SourceName[] {
  const named = need === "DEFENDER" || need === "ESET" ? [need] : need === "PUBLIC" ? [] : SOURCES;
  return named.filter((s) => !held.includes(s));
}

/**
 * `Tenant` repeats every root field of Query (src/tenant-schema.ts), each calling the root field's own
 * resolver (and so its scope check): it needs what the root field needs.
 */
function asRoot(coordinate: string): string {
  return coordinate.startsWith("Tenant.") ? `Query.${coordinate.slice("Tenant.".length)}` : coordinate;
}

const PLAIN = Symbol("the parent's own value");
const everyProperty = new Proxy({}, { get: () => PLAIN });

let stack: Stack;
let makeContext: (requestId: string, principal: Context["principal"]) => Context;
const schemas: Record<string, GraphQLSchema> = {};

const ESET_ONLY_KEY = "scopes-walk-eset-only-key-5d2f8b1e";

beforeAll(async () => {
  stack = await startStack({ AUTH_MODE: "", AUTH_API_KEYS: `${ESET_ONLY_KEY}=eset:users:read` });
  const { gateway } = stack;
  makeContext = contextFactory({
    ...gateway.stores,
    requestDeadlineMs: 10_000,
    log: gateway.log,
    maxListIds: gateway.config.limits.maxListIds,
  });
  schemas.standalone = await buildAppSchema();
  schemas["federation subgraph"] = await buildSubgraphAppSchema();
});
afterAll(() => stack.close());

function contextFor(held: readonly SourceName[]): Context {
  return makeContext("scopes-walk", { kind: "api-key", subject: "walk", scopes: new Set(held.map((s) => scopeOf(s))) });
}

function calls(): Record<SourceName, number> {
  return { DEFENDER: stack.sim.count({ source: "DEFENDER" }), ESET: stack.sim.count({ source: "ESET" }) };
}

function objectTypes(schema: GraphQLSchema): GraphQLObjectType[] {
  return Object.values(schema.getTypeMap()).filter((t): t is GraphQLObjectType => isObjectType(t) && !t.name.startsWith("__"));
}

/** Calls a field's resolver as graphql-js would, with a parent whose every property is PLAIN. */
async function callDirectly(schema: GraphQLSchema, type: GraphQLObjectType, field: GraphQLField<unknown, Context>, ctx: Context) {
  const info = { fieldName: field.name, parentType: type, returnType: field.type, schema, path: { key: field.name } };
  try {
    const resolve = field.resolve ?? ((root: Record<string, unknown>) => root[field.name]);
    return { value: (await resolve(everyProperty, {}, ctx, info as unknown as GraphQLResolveInfo)) as unknown };
  } catch (error) {
    return { error };
  }
}

/** Every field whose resolver, for a caller without any scope, does something else than return its parent's value. */
async function fieldsBeyondTheParent(schema: GraphQLSchema): Promise<string[]> {
  const found: string[] = [];
  for (const type of objectTypes(schema)) {
    for (const field of Object.values(type.getFields())) {
      const outcome = await callDirectly(schema, type, field, contextFor([]));
      if (!("value" in outcome) || outcome.value !== PLAIN) found.push(`${type.name}.${field.name}`);
    }
  }
  return found.sort();
}

/** The arguments of a field as GraphQL literals: required ones from REQUIRED_ARGS, optional ones left to their defaults. */
function argumentsOf(coordinate: string, field: GraphQLField<unknown, unknown>): string {
  const given = REQUIRED_ARGS[asRoot(coordinate)] ?? {};
  const parts: string[] = [];
  for (const arg of field.args) {
    const required = isNonNullType(arg.type) && arg.defaultValue === undefined;
    if (required && !(arg.name in given)) throw new Error(`${coordinate}(${arg.name}:) is required: add a sample value to REQUIRED_ARGS`);
    if (arg.name in given) parts.push(`${arg.name}: ${JSON.stringify(given[arg.name])}`);
  }
  return parts.length === 0 ? "" : `(${parts.join(", ")})`;
}

interface Step {
  field: string;
  args: string;
}

/**
 * The shortest way from Query to a type through fields this caller may read (by NEEDS; fields outside it
 * only read their parent). None when every way needs a scope the caller lacks.
 */
function routeTo(schema: GraphQLSchema, typeName: string, held: readonly SourceName[]): Step[] | undefined {
  const queue: Array<[GraphQLObjectType, Step[]]> = [[schema.getQueryType()!, []]];
  const seen = new Set<string>(["Query"]);
  while (queue.length > 0) {
    const [type, steps] = queue.shift()!;
    if (type.name === typeName) return steps;
    for (const field of Object.values(type.getFields())) {
      const coordinate = `${type.name}.${field.name}`;
      const next = getNamedType(field.type);
      if (!isObjectType(next) || seen.has(next.name) || field.name.startsWith("_")) continue;
      const need = NEEDS[asRoot(coordinate)];
      if (need !== undefined && !holds(need, held)) continue;
      seen.add(next.name);
      queue.push([next, [...steps, { field: field.name, args: argumentsOf(coordinate, field) }]]);
    }
  }
  return undefined;
}

function documentFor(route: Step[], field: GraphQLField<unknown, unknown>, args: string): string {
  const leaf = isCompositeType(getNamedType(field.type)) ? `${field.name}${args} { __typename }` : `${field.name}${args}`;
  return `{ ${route.reduceRight((inner, step) => `${step.field}${step.args} { ${inner} }`, leaf)} }`;
}

/** The values of the last field of `route` + `name` in the data, through lists. */
function valuesAt(data: unknown, path: string[]): unknown[] {
  let level: unknown[] = [data];
  for (const key of path) {
    level = level
      .flatMap((v) => (Array.isArray(v) ? v : [v]))
      .filter((v): v is Record<string, unknown> => v !== null && typeof v === "object" && key in v)
      .map((v) => v[key]);
  }
  return level;
}

function refusalsIn(result: ExecutionResult): Array<{ path: readonly (string | number)[]; source: SourceName }> {
  return (result.errors ?? [])
    .filter((e) => e.originalError instanceof MissingScopeError)
    .map((e) => ({ path: e.path ?? [], source: (e.originalError as MissingScopeError).source }));
}

describe.each(["standalone", "federation subgraph"])("the %s schema", (mode) => {
  it("has a table entry for exactly the fields that do more than read their parent", async () => {
    const schema = schemas[mode]!;
    const fieldsOfSchema = new Set(objectTypes(schema).flatMap((t) => Object.keys(t.getFields()).map((f) => `${t.name}.${f}`)));
    const expected = [
      ...Object.keys(NEEDS).filter((f) => fieldsOfSchema.has(f)),
      // The tenant fields (standalone only) and each root field repeated under Tenant.
      ...[...fieldsOfSchema].filter((f) => f === "Query.tenant" || f === "Query.tenants"),
      ...[...fieldsOfSchema].filter((f) => f.startsWith("Tenant.") && f !== "Tenant.id" && f !== "Tenant.name"),
      ...(fieldsOfSchema.has("Query._entities") ? ["Query._entities"] : []),
    ];
    const before = calls();
    expect(await fieldsBeyondTheParent(schema)).toEqual(expected.sort());
    expect(calls()).toEqual(before);
  });

  describe.each(Object.entries(CALLERS))("with %s", (_caller, held) => {
    it.each(Object.keys(NEEDS))("%s answers when its scope is held and is refused without a call when not", async (coordinate) => {
      const schema = schemas[mode]!;
      const [typeName, fieldName] = coordinate.split(".") as [string, string];
      const type = schema.getType(typeName);
      const field = isObjectType(type) ? type.getFields()[fieldName] : undefined;
      if (field === undefined) {
        // Only the federation fields are absent from the standalone schema; anything else is a stale entry.
        expect([mode, coordinate]).toEqual(["standalone", "Query._service"]);
        return;
      }
      const need = NEEDS[coordinate]!;
      const lacking = missing(need, held);
      const route = routeTo(schema, typeName, held);
      const before = calls();

      if (!holds(need, held)) {
        // Called on its own, whatever the parent: refused before anything runs.
        const direct = await callDirectly(schema, type as GraphQLObjectType, field, contextFor(held));
        expect(direct).toEqual({ error: expect.any(MissingScopeError) });
        expect(lacking).toContain((direct.error as MissingScopeError).source);
      }
      if (route !== undefined) {
        const document = documentFor(route, field, argumentsOf(coordinate, field));
        const result = await execute({ schema, document: parse(document), contextValue: contextFor(held) });
        if (holds(need, held)) {
          expect({ document, errors: result.errors ?? [] }).toEqual({ document, errors: [] });
          // The field ran (its parent was found), so "no error" means it answered.
          const reached = valuesAt(result.data, [...route.map((s) => s.field), fieldName]).length > 0;
          expect({ document, reached }).toEqual({ document, reached: true });
        } else {
          const refused = refusalsIn(result);
          expect({ document, refused: refused.map((r) => r.path.at(-1)) }).toEqual({ document, refused: [fieldName] });
          expect(lacking).toContain(refused[0]!.source);
        }
      } else {
        // Every way to it passes a field this caller may not read: refused, it was checked directly above;
        // held, it is answered with both scopes, which reach every field.
        expect(routeTo(schema, typeName, SOURCES)).toBeDefined();
      }
      for (const source of lacking) expect({ source, calls: calls()[source] - before[source] }).toEqual({ source, calls: 0 });
    });
  });
});

describe("_entities in the federation subgraph", () => {
  it("has a table entry for every entity type", () => {
    const union = schemas["federation subgraph"]!.getType("_Entity");
    expect(
      isUnionType(union)
        ? union
            .getTypes()
            .map((t) => t.name)
            .sort()
        : [],
    ).toEqual(Object.keys(ENTITIES).sort());
  });

  describe.each(Object.entries(CALLERS))("with %s", (_caller, held) => {
    it.each(Object.keys(ENTITIES))("looks up a %s only with its scope, and calls nobody without", async (typeName) => {
      const { need, representation } = ENTITIES[typeName]!;
      const before = calls();
      const result = await execute({
        schema: schemas["federation subgraph"]!,
        document: parse("query ($r: [_Any!]!) { _entities(representations: $r) { __typename } }"),
        variableValues: { r: [representation] },
        contextValue: contextFor(held),
      });
      if (holds(need, held)) {
        expect(result).toEqual({ data: { _entities: [{ __typename: typeName }] } });
      } else {
        expect(result.data).toEqual({ _entities: [null] });
        expect(refusalsIn(result)).toEqual([{ path: ["_entities", 0], source: need }]);
        expect(calls()[need as SourceName] - before[need as SourceName]).toBe(0);
      }
    });
  });
});

it("serves the subgraph's SDL to a caller without any scope", async () => {
  const result = await execute({
    schema: schemas["federation subgraph"]!,
    document: parse("{ _service { sdl } }"),
    contextValue: contextFor([]),
  });
  expect(result.errors).toBeUndefined();
  expect((result.data as { _service: { sdl: string } })._service.sdl).toContain("type DefenderUser");
});

it("answers a caller without the scope FORBIDDEN before looking at its arguments, so refusals teach it no rule", async () => {
  const before = calls().DEFENDER;
  const res = await stack.post(
    JSON.stringify({
      query: `{ defenderUsers(ids: ["a/b"]) { id } defenderMachine(id: "../etc") { id } defenderAlerts(after: "forged") { pageInfo { hasNextPage } } }`,
    }),
    { "x-api-key": ESET_ONLY_KEY },
  );
  expect(res.body.data).toEqual({ defenderUsers: null, defenderMachine: null, defenderAlerts: null });
  expect(codes(res)).toEqual(["FORBIDDEN", "FORBIDDEN", "FORBIDDEN"]);
  expect(calls().DEFENDER - before).toBe(0);
});
