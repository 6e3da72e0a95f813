import "reflect-metadata";
import { buildSchema as buildSdl, isCompositeType, getNamedType, isObjectType, parse, type GraphQLSchema } from "graphql";
import { buildAppSchema } from "../../src/schema";
import { OperationPricer, operationCostPlugin, type OperationLimits } from "../../src/limits/operation-limits";
import { graphParts, priceBookOf } from "../../src/graph-parts";
import { priceBook } from "../../src/limits/price-book";

const GRAPH_PARTS = graphParts();
const PRICE_BOOK = priceBookOf(GRAPH_PARTS);

/**
 * The operation cost fails closed: a field that may call a vendor must have a price (or be declared a
 * plain part of an entity), and an operation selecting one that has none is refused before any resolver.
 */
const LIMITS: OperationLimits & { sourceCost: Record<string, number> } = {
  maxDepth: 20,
  maxAliases: 30,
  maxFields: 10_000,
  maxDirectives: 50,
  maxTokens: 10_000,
  maxCost: 1_100,
  sourceCost: { DEFENDER: 100 },
  maxListIds: { defenderUsers: 100, esetUsers: 1000 },
};

/** Runs the cost plugin on one operation; the problems it refuses with, or [] when it lets the operation through. */
async function problemsOf(
  schema: GraphQLSchema,
  query: string,
  variables: Record<string, unknown> = {},
  // The same plugin and document across calls: its price memory is in play.
  reuse?: { plugin: ReturnType<typeof operationCostPlugin>; document: ReturnType<typeof parse> },
  /** The request's context, as the pipeline hands it to the plugin (how many tenants its caller sees). */
  contextValue?: { tenantsVisible(): number },
): Promise<string[]> {
  const document = reuse?.document ?? parse(query);
  const operation = document.definitions.find((d) => d.kind === "OperationDefinition")!;
  const hooks = await (reuse?.plugin ?? operationCostPlugin(new OperationPricer(LIMITS, schema, PRICE_BOOK))).requestDidStart!({} as never);
  try {
    await (hooks as { didResolveOperation: (r: unknown) => Promise<void> }).didResolveOperation({
      document,
      request: { variables },
      operation,
      contextValue,
    });
    return [];
  } catch (err) {
    return (err as { extensions: { problems: string[] } }).extensions.problems;
  }
}

it("has a price for every field of the schema that may call a vendor", async () => {
  const schema = await buildAppSchema();
  const missing: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__")) continue;
    for (const field of Object.values(type.getFields())) {
      // `Tenant` repeats the root fields at their price; `tenant`/`tenants` are priced by operation-limits.ts itself.
      if (type.name === "Query" && (field.name === "tenant" || field.name === "tenants")) continue;
      const name = `${type.name === "Tenant" ? "Query" : type.name}.${field.name}`;
      if (type.name === "Tenant" && (field.name === "id" || field.name === "name")) continue;
      const needs = type.name === "Query" || field.args.length > 0 || isCompositeType(getNamedType(field.type));
      if (needs && !PRICE_BOOK.prices.has(name) && !PRICE_BOOK.freeFields.has(name)) missing.push(name);
    }
  }
  expect(missing).toEqual([]);
});

it("refuses an operation that selects a field without a price, naming it", async () => {
  const schema = buildSdl("type Query { defenderUser(id: ID!): Thing  newVendorThing: Thing } type Thing { id: ID  more(n: Int): Thing }");
  expect(await problemsOf(schema, "{ newVendorThing { id } }")).toEqual([expect.stringContaining("Query.newVendorThing")]);
  expect(await problemsOf(schema, '{ defenderUser(id: "a") { more(n: 1) { id } } }')).toEqual([expect.stringContaining("Thing.more")]);
  // A priced root field with plain scalar children goes through, and so does introspection.
  expect(await problemsOf(schema, '{ defenderUser(id: "a") { id } }')).toEqual([]);
  expect(
    await problemsOf(
      schema,
      '{ __schema { queryType { name fields { name type { ofType { name } } } } } __type(name: "Thing") { fields { name } } }',
    ),
  ).toEqual([]);
});

describe("the price of Defender's relations", () => {
  const since = "2026-11-25T00:00:00Z";
  const users = `[${Array.from({ length: 50 }, (_, i) => `"contoso\\\\u${i}"`).join(",")}]`;
  const atLimit = async (query: string, maxDefenderCost: number) => {
    const schema = await buildAppSchema();
    const saved = LIMITS.sourceCost.DEFENDER;
    LIMITS.sourceCost.DEFENDER = maxDefenderCost;
    try {
      return await problemsOf(schema, query);
    } finally {
      LIMITS.sourceCost.DEFENDER = saved;
    }
  };

  it("prices the risky-users dashboard at its plan: 50 user GETs, one alert window (≤ 4 calls), one fleet (≤ 20)", async () => {
    const dashboard = `{ defenderUsers(ids: ${users}) { id alerts(since: "${since}") { id severity machine { id } } mostPrevalentMachine { id riskScore } } }`;
    expect(await atLimit(dashboard, 74)).toEqual([]);
    // The naive path (one alerts call and one machine GET per user) would be 150; the plan is 50 + 4 + 20
    // (the fleet read to its end, at most 10 pages, plus fewer per-id calls than that before listing paid).
    expect(await atLimit(dashboard, 73)).toEqual([expect.stringContaining("may make 74 Defender calls")]);
  });

  it("prices a root field under tenant(id:) as at the root, and under tenants once per configured tenant", async () => {
    const root = `defenderUsers(ids: ${users}) { machines { id } alerts(since: "${since}") { id } }`;
    expect(await atLimit(`{ a: tenant(id: "a") { ${root} } }`, 100)).toEqual([expect.stringContaining("may make 104 Defender calls")]);
    LIMITS.tenants = 3;
    try {
      // Each tenant's share: 50 user GETs + 50 machine lists + its own alert plan group (4): 104 in each, 312 in all.
      expect(await atLimit(`{ tenants { ${root} } }`, 100)).toEqual([
        "it may make 104 Defender calls in each tenant; the limit is 100 (MAX_DEFENDER_COST, per tenant)",
      ]);
      // The cap is per tenant (Defender's quota is each customer tenant's): 104 in each fits a cap of 104.
      expect(await atLimit(`{ tenants { ${root} } }`, 104)).toEqual([]);
      // MAX_COST bounds the whole operation: 3 × 104.
      const saved = LIMITS.maxCost;
      LIMITS.maxCost = 311;
      try {
        expect(await atLimit(`{ tenants { ${root} } }`, 104)).toEqual([expect.stringContaining("its cost is 312 vendor calls")]);
      } finally {
        LIMITS.maxCost = saved;
      }
    } finally {
      delete LIMITS.tenants;
    }
    // The id-list limit holds under a tenant too.
    const many = JSON.stringify(Array.from({ length: 101 }, (_, i) => `c\\u${i}`));
    expect(await atLimit(`{ tenant(id: "a") { defenderUsers(ids: ${many}) { id } } }`, 1000)).toEqual([
      expect.stringContaining("has 101 ids; the limit is 100"),
    ]);
  });

  it("prices tenants { … } for the tenants the caller sees, not every configured one", async () => {
    const root = `defenderUsers(ids: ${users}) { machines { id } alerts(since: "${since}") { id } }`;
    const schema = await buildAppSchema();
    const saved = [LIMITS.maxCost, LIMITS.sourceCost.DEFENDER] as const;
    LIMITS.tenants = 200;
    LIMITS.maxCost = 311;
    LIMITS.sourceCost.DEFENDER = 104;
    const seeing = (n: number) => ({ tenantsVisible: () => n });
    try {
      // 104 a tenant: a caller of 2 among 200 pays 208, within 311; one of 3, 312; one of all 200, 20,800.
      expect(await problemsOf(schema, `{ tenants { ${root} } }`, {}, undefined, seeing(2))).toEqual([]);
      expect(await problemsOf(schema, `{ tenants { ${root} } }`, {}, undefined, seeing(3))).toEqual([
        expect.stringContaining("its cost is 312 vendor calls"),
      ]);
      expect(await problemsOf(schema, `{ tenants { ${root} } }`, {}, undefined, seeing(200))).toEqual([
        expect.stringContaining("its cost is 20800 vendor calls"),
      ]);
      // The same document, remembered per shape: the count is part of it (2 then 3 then 2 again).
      const reuse = {
        plugin: operationCostPlugin(new OperationPricer(LIMITS, schema, PRICE_BOOK)),
        document: parse(`{ tenants { ${root} } }`),
      };
      expect(await problemsOf(schema, "", {}, reuse, seeing(2))).toEqual([]);
      expect(await problemsOf(schema, "", {}, reuse, seeing(3))).toHaveLength(1);
      expect(await problemsOf(schema, "", {}, reuse, seeing(2))).toEqual([]);
      // Without a count (no request context), the deployment's: 200.
      expect(await problemsOf(schema, `{ tenants { ${root} } }`)).toEqual([expect.stringContaining("its cost is 20800 vendor calls")]);
    } finally {
      [LIMITS.maxCost, LIMITS.sourceCost.DEFENDER] = saved;
      delete LIMITS.tenants;
    }
  });

  it("prices each tenant's plan groups as that tenant's own, and aliases naming one tenant together", async () => {
    // The fleet plan: per tenant 50 user GETs + min(50 + 10 pages, 20) = 70, where one shared group priced 150 + 20.
    const fleet = `defenderUsers(ids: ${users}) { mostPrevalentMachine { id } }`;
    LIMITS.tenants = 3;
    try {
      expect(await atLimit(`{ tenants { ${fleet} } }`, 69)).toEqual([
        "it may make 70 Defender calls in each tenant; the limit is 69 (MAX_DEFENDER_COST, per tenant)",
      ]);
      const saved = LIMITS.maxCost;
      LIMITS.maxCost = 209;
      try {
        expect(await atLimit(`{ tenants { ${fleet} } }`, 70)).toEqual([expect.stringContaining("its cost is 210 vendor calls")]);
      } finally {
        LIMITS.maxCost = saved;
      }
    } finally {
      delete LIMITS.tenants;
    }
    // Two tenants by alias: each its own 70; the same tenant twice shares its loaders, so its share adds up
    // (100 GETs + min(100 + 10, 20)), and the id is a variable's: priced by its value, not its shape.
    const two = `query ($x: ID!, $y: ID!) { a: tenant(id: $x) { ${fleet} } b: tenant(id: $y) { ${fleet} } }`;
    const schema = await buildAppSchema();
    const reuse = { plugin: operationCostPlugin(new OperationPricer(LIMITS, schema, PRICE_BOOK)), document: parse(two) };
    const saved = LIMITS.sourceCost.DEFENDER;
    LIMITS.sourceCost.DEFENDER = 70;
    try {
      expect(await problemsOf(schema, two, { x: "c1", y: "c2" }, reuse)).toEqual([]);
      expect(await problemsOf(schema, two, { x: "c1", y: "c1" }, reuse)).toEqual([
        'it may make 120 Defender calls in tenant "c1"; the limit is 70 (MAX_DEFENDER_COST, per tenant)',
      ]);
      expect(await problemsOf(schema, two, { x: "c3", y: "c4" }, reuse)).toEqual([]);
    } finally {
      LIMITS.sourceCost.DEFENDER = saved;
    }
    // Root fields are the caller's one tenant: they count in the share of every tenant the operation names.
    const mixed = `{ ${fleet} a: tenant(id: "c1") { defenderUser(id: "x") { id } } }`;
    expect(await atLimit(mixed, 71)).toEqual([]);
    expect(await atLimit(mixed, 70)).toEqual([expect.stringContaining('may make 71 Defender calls in tenant "c1"')]);
  });

  it("still refuses per-user relations that have no plan across 50 users", async () => {
    const problems = await atLimit(`{ defenderUsers(ids: ${users}) { machines { id } alerts(since: "${since}") { id } } }`, 100);
    expect(problems).toEqual([expect.stringContaining("may make 104 Defender calls")]);
    const deep = await atLimit(`{ defenderUsers(ids: ${users}) { machines { loggedOnUsers { id } } } }`, 100);
    expect(deep).toEqual([expect.stringContaining("may make 1100 Defender calls")]);
  });

  it("prices a few users at the naive path when that is cheaper than the plan's bound", async () => {
    // One user: 1 GET, 1 alerts call (the plan's bound is 4), 1 machine (bound 6), 1 machines list.
    expect(
      await atLimit(`{ defenderUser(id: "contoso\\\\alice") { machines { id } alerts { id } mostPrevalentMachine { id } } }`, 4),
    ).toEqual([]);
    // Evidence per key costs one more call per 25 alerts (1 + ceil(20/25) = 2 runs), so even one user's alerts
    // with evidence may be listed (2 pages) and then still asked per key: 1 + min(2 + 2, 4).
    expect(await atLimit(`{ defenderUser(id: "contoso\\\\alice") { alerts { evidence { entityType } } } }`, 4)).toEqual([
      expect.stringContaining("may make 5 Defender calls"),
    ]);
  });

  it("opens one alert window per occurrence: two windows may cost two listings", async () => {
    const two = `{ defenderUsers(ids: ${users}) { a: alerts(since: "${since}") { id } b: alerts { id } } }`;
    expect(await atLimit(two, 100)).toEqual([]);
    expect(await atLimit(two, 57)).toEqual([expect.stringContaining("may make 58 Defender calls")]);
  });

  it("prices defenderAlerts at one call a page, and what its alerts select per alert", async () => {
    expect(await atLimit(`{ defenderAlerts(first: 100) { edges { node { id machine { id } } } } }`, 21)).toEqual([]);
    expect(await atLimit(`{ defenderAlerts(first: 100) { edges { node { id machine { id } } } } }`, 20)).toEqual([
      expect.stringContaining("may make 21 Defender calls"),
    ]);
  });
});

it("refuses two parts of the graph that price the same field, or a field both priced and free", () => {
  const one = () => 1;
  const a = { prices: { "Query.x": { calls: { DEFENDER: one }, times: one } } };
  expect(() => priceBook([a, { prices: { "Query.x": { calls: {}, times: one } } }])).toThrow(/Query\.x is declared by two parts/);
  expect(() => priceBook([a, { prices: {}, freeFields: ["Query.x"] }])).toThrow(/Query\.x is both priced and free/);
  const book = priceBook([a, { prices: {}, freeFields: ["Thing.part"], idLists: { xs: { arg: "ids", setting: "MAX_X" } } }]);
  expect([book.prices.has("Query.x"), book.freeFields.has("Thing.part"), book.idLists.get("xs")?.setting]).toEqual([true, true, "MAX_X"]);
});

it("every part of the graph contributes resolvers, and the book holds each part's prices", () => {
  for (const part of GRAPH_PARTS) {
    expect({ part: part.name, resolvers: part.resolvers.length > 0 }).toEqual({ part: part.name, resolvers: true });
    for (const field of Object.keys(part.prices)) expect(PRICE_BOOK.prices.get(field)).toBe(part.prices[field]);
  }
});
