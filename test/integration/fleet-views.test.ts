import { DEMO } from "../../src/simulator/demo-data";
import { DEMO_MACHINES } from "../../src/simulator/defender-relations";
import type { WireObject } from "../../src/simulator/demo-data";
import type { Simulator } from "../../src/simulator/simulator";
import { stringifyWire } from "../../src/simulator/wire-json";
import {
  DefenderFleetPageDocument,
  type DefenderFleetPageQuery,
  type DefenderFleetPageQueryVariables,
  type DefenderMachineFilter,
  type DefenderMachineOrder,
} from "../__generated__/operations";
import { codes, useStackPair, type GraphQLResponse, type Stack } from "../helpers/stack";

/**
 * defenderMachines, the fleet view, end to end against the simulator: every answer is checked against the
 * simulator's own machines, filtered, ordered and counted here independently of usergraph's code.
 */

const DAY = 86_400_000;
const SIM = { extraDefenderUsers: 30, extraDefenderMachines: 40 };
const listCalls = (sim: Simulator) => sim.count({ source: "DEFENDER", kind: "api", endpoint: "machines.list" });
const defenderCalls = (sim: Simulator) => sim.count({ source: "DEFENDER", kind: "api" });

/** The wire's PascalCase enum as the schema's name: "ImpairedCommunication" → "IMPAIRED_COMMUNICATION"; none → UNSPECIFIED. */
const enumName = (v: unknown) => (typeof v === "string" && v !== "" ? v.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase() : "UNSPECIFIED");
const RISK = ["NONE", "INFORMATIONAL", "LOW", "MEDIUM", "HIGH"];
const EXPOSURE = ["NONE", "LOW", "MEDIUM", "HIGH"];

/** What the view must show, from the simulator's machines: the test's own reading of the contract. */
function expected(sim: Simulator, filter: DefenderMachineFilter = {}, order: DefenderMachineOrder = { field: "RISK_SCORE" }): WireObject[] {
  const lower = (v: unknown) => (typeof v === "string" ? v.toLowerCase() : null);
  const matching = [...sim.defenderMachines.values()].filter((m) => {
    if (filter.riskScore?.length && !filter.riskScore.includes(enumName(m.riskScore) as never)) return false;
    if (filter.exposureLevel?.length && !filter.exposureLevel.includes(enumName(m.exposureLevel) as never)) return false;
    if (filter.healthStatus?.length && !filter.healthStatus.includes(enumName(m.healthStatus) as never)) return false;
    if (filter.osPlatform && lower(m.osPlatform) !== filter.osPlatform.toLowerCase()) return false;
    if (filter.nameContains && !(lower(m.computerDnsName) ?? "").includes(filter.nameContains.toLowerCase())) return false;
    if (filter.lastSeenSince && !(typeof m.lastSeen === "string" && Date.parse(m.lastSeen) >= Date.parse(filter.lastSeenSince)))
      return false;
    if (filter.rbacGroupName && lower(m.rbacGroupName) !== filter.rbacGroupName.toLowerCase()) return false;
    if (filter.tag && !((m.machineTags as string[]) ?? []).some((t) => t.toLowerCase() === filter.tag!.toLowerCase())) return false;
    return true;
  });
  const key = (m: WireObject): number | string | null => {
    switch (order.field) {
      case "RISK_SCORE":
        return RISK.includes(enumName(m.riskScore)) ? RISK.indexOf(enumName(m.riskScore)) : null;
      case "EXPOSURE_LEVEL":
        return EXPOSURE.includes(enumName(m.exposureLevel)) ? EXPOSURE.indexOf(enumName(m.exposureLevel)) : null;
      case "LAST_SEEN":
        return typeof m.lastSeen === "string" ? Date.parse(m.lastSeen) : null;
      case "COMPUTER_DNS_NAME":
        return lower(m.computerDnsName);
    }
  };
  const sign = order.direction === "ASC" ? 1 : -1;
  const cmp = (a: number | string, b: number | string) => (a < b ? -1 : a > b ? 1 : 0);
  return matching.sort((a, b) => {
    const [ka, kb] = [key(a), key(b)];
    if (ka === null || kb === null) return ka === kb ? sign * cmp(String(a.id), String(b.id)) : ka === null ? 1 : -1;
    return sign * (cmp(ka, kb) || cmp(String(a.id), String(b.id)));
  });
}

function countsOf(machines: WireObject[], value: (m: WireObject) => string) {
  const counts = new Map<string, number>();
  for (const m of machines) counts.set(value(m), (counts.get(value(m)) ?? 0) + 1);
  return [...counts].map(([v, count]) => ({ value: v, count })).sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1));
}

async function page(stack: Stack, variables: Partial<DefenderFleetPageQueryVariables>): Promise<GraphQLResponse<DefenderFleetPageQuery>> {
  return stack.gql(DefenderFleetPageDocument, { machineFilter: null, machineOrder: null, first: null, after: null, ...variables });
}

/** Every page of a view, in order; fails on any error. */
async function allPages(
  stack: Stack,
  machineFilter: DefenderMachineFilter | null,
  machineOrder: DefenderMachineOrder | null,
  first: number,
) {
  const ids: string[] = [];
  let after: string | null = null;
  let pages = 0;
  for (;;) {
    const res: GraphQLResponse<DefenderFleetPageQuery> = await page(stack, { machineFilter, machineOrder, first, after });
    expect(res.body.errors).toBeUndefined();
    const conn = res.body.data!.defenderMachines!;
    pages++;
    expect(conn.pageInfo.hasPreviousPage).toBe(after !== null);
    expect(conn.edges.length).toBeLessThanOrEqual(first);
    ids.push(...conn.edges.map((e) => e.node.id));
    if (!conn.pageInfo.hasNextPage) return { ids, pages };
    after = conn.pageInfo.endCursor;
  }
}

let stack: Stack;
let cached: Stack;
useStackPair(SIM, (plain, keeping) => ([stack, cached] = [plain, keeping]));

describe("defenderMachines: filter, order and paging", () => {
  const views: Array<[string, DefenderMachineFilter | null, DefenderMachineOrder | null]> = [
    ["the whole fleet, riskiest first (the default order)", null, null],
    [
      "high or medium risk, unhealthy, by exposure",
      {
        riskScore: ["HIGH", "MEDIUM"],
        healthStatus: ["INACTIVE", "IMPAIRED_COMMUNICATION", "NO_SENSOR_DATA_IMPAIRED_COMMUNICATION", "UNKNOWN"],
      },
      { field: "EXPOSURE_LEVEL" },
    ],
    [
      "Windows 11 seen in the last day, least recently seen first",
      { osPlatform: "windows11", lastSeenSince: new Date(Date.now() - DAY).toISOString() },
      { field: "LAST_SEEN", direction: "ASC" },
    ],
    [
      "a device group and a tag, by name",
      { rbacGroupName: "contoso workstations", tag: "vip" },
      { field: "COMPUTER_DNS_NAME", direction: "ASC" },
    ],
    ["part of a name, by name Z to A", { nameContains: "-PC." }, { field: "COMPUTER_DNS_NAME" }],
    ["exposure high or none, by risk ascending", { exposureLevel: ["HIGH", "NONE"] }, { field: "RISK_SCORE", direction: "ASC" }],
  ];

  it.each(views)("%s: every machine exactly once, in order, across pages", async (_, filter, order) => {
    const want = expected(stack.sim, filter ?? {}, order ?? { field: "RISK_SCORE" }).map((m) => String(m.id));
    expect(want.length).toBeGreaterThan(1);
    const { ids, pages } = await allPages(stack, filter, order, 4);
    expect(ids).toEqual(want);
    expect(pages).toBe(Math.max(1, Math.ceil(want.length / 4)));
  });

  it("puts machines without a value last in either direction, and breaks ties by id", async () => {
    for (const direction of ["ASC", "DESC"] as const) {
      const { ids } = await allPages(stack, null, { field: "RISK_SCORE", direction }, 25);
      expect(ids.at(-1)).toBe(DEMO_MACHINES.testMachine);
      expect(ids).toEqual(expected(stack.sim, {}, { field: "RISK_SCORE", direction }).map((m) => String(m.id)));
    }
  });

  it("answers the page's machines whole", async () => {
    const res = await page(stack, { machineFilter: { nameContains: "alice-laptop" } });
    expect(res.body.data!.defenderMachines!.edges.map((e) => e.node)).toEqual([
      expect.objectContaining({
        id: DEMO_MACHINES.aliceLaptop,
        computerDnsName: "alice-laptop.contoso.com",
        riskScore: "HIGH",
        exposureLevel: "MEDIUM",
        machineTags: ["SOC", "VIP"],
      }),
    ]);
  });
});

describe("defenderMachines: counts and facets", () => {
  it.each<[string, DefenderMachineFilter | null]>([
    ["the whole fleet", null],
    ["risky machines", { riskScore: ["HIGH", "MEDIUM"] }],
    ["one device group", { rbacGroupName: "Fabrikam" }],
  ])("counts %s per risk, exposure, health and OS over the filtered set, not the page", async (_, filter) => {
    const want = expected(stack.sim, filter ?? {});
    const res = await page(stack, { machineFilter: filter, first: 2 });
    const conn = res.body.data!.defenderMachines!;
    expect(conn.edges).toHaveLength(2);
    expect(conn.totalCount).toBe(want.length);
    expect(conn.complete).toBe(true);
    expect(conn.facets).toEqual({
      riskScore: countsOf(want, (m) => enumName(m.riskScore)),
      exposureLevel: countsOf(want, (m) => enumName(m.exposureLevel)),
      healthStatus: countsOf(want, (m) => enumName(m.healthStatus)),
      osPlatform: countsOf(want, (m) => (typeof m.osPlatform === "string" ? m.osPlatform : "UNSPECIFIED")),
    });
    for (const facet of Object.values(conn.facets)) expect(facet.reduce((n, f) => n + f.count, 0)).toBe(want.length);
  });

  it("counts an empty filtered set as 0 with no facets and no page", async () => {
    const res = await page(stack, { machineFilter: { tag: "no-such-tag" } });
    const conn = res.body.data!.defenderMachines!;
    expect(conn).toMatchObject({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
    expect(conn.facets).toEqual({ riskScore: [], exposureLevel: [], healthStatus: [], osPlatform: [] });
  });
});

describe("defenderMachines: Defender calls", () => {
  it("lists the fleet once for a page, its counts and its facets, cold (1 call)", async () => {
    const res = await page(stack, { machineFilter: { riskScore: ["HIGH"] }, first: 3 });
    expect(res.body.errors).toBeUndefined();
    expect(listCalls(stack.sim)).toBe(1);
    expect(defenderCalls(stack.sim)).toBe(1);
    expect(decodeURIComponent(stack.sim.requests.find((r) => r.endpoint === "machines.list")!.path)).toBe("/api/machines?$top=10000");
    expect(stack.logs.entries("graphql request").at(-1)!.plan).toEqual(["machines: fleet list, 1 call for defenderMachines"]);
  });

  it("answers every page, filter and order from the kept listing, warm (0 calls), and machines by id too", async () => {
    await page(cached, {});
    cached.sim.reset();
    const { ids } = await allPages(cached, { healthStatus: ["ACTIVE"] }, { field: "LAST_SEEN" }, 5);
    expect(ids).toEqual(expected(cached.sim, { healthStatus: ["ACTIVE"] }, { field: "LAST_SEEN" }).map((m) => String(m.id)));
    await page(cached, { machineOrder: { field: "COMPUTER_DNS_NAME", direction: "ASC" } });
    const one = await cached.post(JSON.stringify({ query: `{ defenderMachine(id: "dc01") { id } }` }));
    expect(one.body.data).toEqual({ defenderMachine: { id: DEMO_MACHINES.domainController } });
    expect(defenderCalls(cached.sim)).toBe(0);
    expect(cached.logs.entries("graphql request").at(-2)!.plan).toEqual(["machines: cached fleet list for defenderMachines"]);
  });

  it("shares one listing between defenderMachines and machines by id in the same request (1 call)", async () => {
    const res = await stack.post(
      JSON.stringify({
        query: `{ defenderMachines(first: 1) { totalCount } a: defenderMachine(id: "dc01") { id } b: defenderMachine(id: "backup01") { id } }`,
      }),
    );
    expect(res.body.errors).toBeUndefined();
    expect(listCalls(stack.sim)).toBe(1);
    expect(defenderCalls(stack.sim)).toBe(1);
  });

  it("follows @odata.nextLink when the fleet takes more than one page (2 calls), and counts every page", async () => {
    const all = [...stack.sim.defenderMachines.values()];
    const half = Math.floor(all.length / 2);
    stack.sim.inject({
      target: "defender-machines",
      endpoint: "machines.list",
      kind: "status",
      status: 200,
      body: stringifyWire({ value: all.slice(0, half), "@odata.nextLink": `${stack.sim.url}/api/machines?$top=10000&$skip=${half}` }),
    });
    const res = await page(stack, { first: 1 });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.defenderMachines!.totalCount).toBe(all.length);
    expect(listCalls(stack.sim)).toBe(2);
    expect(stack.logs.entries("graphql request").at(-1)!.plan).toEqual(["machines: fleet list, 2 calls for defenderMachines"]);
  });
});

describe("defenderMachines: a fleet of many pages", () => {
  it("follows @odata.nextLink to the end (one call a page, 10 pages here), complete, every machine counted", async () => {
    const size = stack.sim.defenderMachines.size;
    // Defender pages on its own at 10,000; the simulator is told to page at a tenth of this fleet.
    stack.sim.defenderPageSize = Math.ceil(size / 10);
    const res = await page(stack, { first: 1 });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.defenderMachines!).toMatchObject({ totalCount: size, complete: true });
    expect(listCalls(stack.sim)).toBe(10);
    expect(stack.logs.entries("graphql request").at(-1)!.plan).toEqual(["machines: fleet list, 10 calls for defenderMachines"]);
  });

  it("says complete: false when the fleet outgrows the listing's bound (10 pages), and counts what it listed", async () => {
    const size = stack.sim.defenderMachines.size;
    stack.sim.defenderPageSize = Math.floor(size / 11);
    const res = await page(stack, { first: 1 });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.defenderMachines!).toMatchObject({ totalCount: 10 * Math.floor(size / 11), complete: false });
    expect(listCalls(stack.sim)).toBe(10);
  });
});

describe("defenderMachines: cursors", () => {
  it("continues after the last machine seen when the listing is refreshed in between: machines that came or went before it change nothing", async () => {
    // Caching is off on this stack: every request lists the fleet afresh, a refresh between any two pages.
    const order: DefenderMachineOrder = { field: "COMPUTER_DNS_NAME", direction: "ASC" };
    const before = expected(stack.sim, {}, order).map((m) => String(m.id));
    const first = await page(stack, { machineOrder: order, first: 10 });
    const seen = first.body.data!.defenderMachines!.edges.map((e) => e.node.id);
    expect(seen).toEqual(before.slice(0, 10));
    const gone = stack.sim.defenderMachines.get(seen[3]!)!;
    const added = { ...gone, id: "0".repeat(39) + "1", computerDnsName: "aaa-new-machine.contoso.com" };
    stack.sim.defenderMachines.delete(seen[3]!);
    stack.sim.defenderMachines.set(String(added.id), added);
    try {
      const rest = await allPagesFrom(first.body.data!.defenderMachines!.pageInfo.endCursor!, order);
      // An offset would have shown the 10th machine again (one came before it) and skipped one (one went).
      expect([...seen, ...rest]).toEqual(before);
      expect(listCalls(stack.sim)).toBeGreaterThan(1);
    } finally {
      stack.sim.defenderMachines.delete(String(added.id));
      stack.sim.defenderMachines.set(seen[3]!, gone);
    }
  });

  async function allPagesFrom(after: string, order: DefenderMachineOrder): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | null = after;
    while (cursor !== null) {
      const res: GraphQLResponse<DefenderFleetPageQuery> = await page(stack, { machineOrder: order, first: 7, after: cursor });
      expect(res.body.errors).toBeUndefined();
      const conn = res.body.data!.defenderMachines!;
      ids.push(...conn.edges.map((e) => e.node.id));
      cursor = conn.pageInfo.hasNextPage ? conn.pageInfo.endCursor : null;
    }
    return ids;
  }

  it("refuses a cursor of another filter or order, an altered one and a defenderAlerts cursor with BAD_USER_INPUT, before any call", async () => {
    const first = await page(stack, { machineFilter: { riskScore: ["HIGH"] }, first: 1 });
    const cursor = first.body.data!.defenderMachines!.pageInfo.endCursor!;
    const alerts = await stack.post(JSON.stringify({ query: "{ defenderAlerts(first: 1) { pageInfo { endCursor } } }" }));
    const alertCursor = (alerts.body.data as { defenderAlerts: { pageInfo: { endCursor: string } } }).defenderAlerts.pageInfo.endCursor;
    stack.sim.reset();
    const attempts: Array<Partial<DefenderFleetPageQueryVariables>> = [
      { machineFilter: { riskScore: ["LOW"] }, after: cursor },
      { machineFilter: { riskScore: ["HIGH"] }, machineOrder: { field: "RISK_SCORE", direction: "ASC" }, after: cursor },
      { machineFilter: { riskScore: ["HIGH"] }, after: `${cursor.slice(0, -2)}AA` },
      { machineFilter: { riskScore: ["HIGH"] }, after: alertCursor },
      { machineFilter: { riskScore: ["HIGH"] }, after: "zz9-plural-z-alpha" },
    ];
    for (const variables of attempts) {
      const res = await page(stack, { first: 1, ...variables });
      expect(res.body.data!.defenderMachines).toBeNull();
      expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
      expect(res.text).not.toContain(String(variables.after).slice(0, 20));
    }
    expect(defenderCalls(stack.sim)).toBe(0);
    // The same filter written otherwise (another list order, another case) is the same view: its cursor works.
    const same = await page(stack, { machineFilter: { riskScore: ["HIGH", "HIGH"] }, first: 1, after: cursor });
    expect(same.body.errors).toBeUndefined();
  });

  it("refuses first outside 1 to 1000 and over-long text before any call", async () => {
    for (const variables of [
      { first: 0 },
      { first: 1001 },
      { first: -1 },
      { machineFilter: { nameContains: "x".repeat(257) } },
      { machineFilter: { tag: "a\u0000b" } },
    ]) {
      const res = await page(stack, variables);
      expect(res.body.data!.defenderMachines).toBeNull();
      expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
    }
    expect(defenderCalls(stack.sim)).toBe(0);
  });
});

describe("defenderMachines: failure and price", () => {
  it("answers null with UPSTREAM_FORBIDDEN when the app lacks Machine.Read.All, and the other fields still answer", async () => {
    stack.sim.setDefenderRoles(["User.Read.All", "Alert.Read.All"]);
    const res = await stack.post(
      JSON.stringify({
        query: `{ defenderMachines { totalCount edges { node { id } } } defenderUser(id: "${DEMO.defenderAlice.replace("\\", "\\\\")}") { accountName } }`,
      }),
    );
    expect(res.body.data).toEqual({ defenderMachines: null, defenderUser: { accountName: "alice" } });
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors![0]).toMatchObject({
      path: ["defenderMachines"],
      extensions: { code: "UPSTREAM_FORBIDDEN", requiredPermission: "Machine.Read.All" },
    });
  });

  it("is priced by the listing's pages, not per machine: a 1000-machine page is accepted, per-machine calls under it are priced per machine", async () => {
    const big = await page(stack, { first: 1000 });
    expect(big.body.errors).toBeUndefined();
    expect(big.body.data!.defenderMachines!.edges.length).toBe(stack.sim.defenderMachines.size);
    const perMachine = await stack.post(
      JSON.stringify({ query: "{ defenderMachines(first: 200) { edges { node { loggedOnUsers { id } } } } }" }),
    );
    expect(codes(perMachine)).toEqual(["OPERATION_LIMIT_EXCEEDED"]);
    expect(JSON.stringify(perMachine.body.errors)).toContain("210 Defender calls");
  });
});
