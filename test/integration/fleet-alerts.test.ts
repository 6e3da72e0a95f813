import { DEMO } from "../../src/simulator/demo-data";
import type { WireObject } from "../../src/simulator/demo-data";
import { DEMO_MACHINES } from "../../src/simulator/defender-relations";
import type { Simulator } from "../../src/simulator/simulator";
import { DefenderAlertCountsDocument, type DefenderAlertFilter } from "../__generated__/operations";
import { codes, startStack, useStackPair, type Stack } from "../helpers/stack";

/**
 * The alert side of the fleet views, end to end against the simulator: defenderAlerts' totalCount and
 * facets over the filtered set (checked against the simulator's alerts, counted here), their Defender
 * calls cold and warm, their price, and the status / minSeverity arguments of DefenderUser.alerts and
 * DefenderMachine.alerts under both plans (per key and the window listing).
 */

const DAY = 86_400_000;
const SIM = { extraDefenderUsers: 60, extraDefenderMachines: 60, extraDefenderAlerts: 200 };
const api = (sim: Simulator, endpoint: string) => sim.count({ source: "DEFENDER", kind: "api", endpoint: endpoint as never });
const defenderCalls = (sim: Simulator) => sim.count({ source: "DEFENDER", kind: "api" });
/** The wire's PascalCase enum as the schema's name ("InProgress" → "IN_PROGRESS", Defender's "UnSpecified" → "UNSPECIFIED"). */
const enumName = (v: unknown) =>
  typeof v === "string" && v !== ""
    ? v
        .replace(/([a-z])([A-Z])/g, "$1_$2")
        .toUpperCase()
        .replace("UN_SPECIFIED", "UNSPECIFIED")
    : "UNSPECIFIED";
const SEVERITY = ["UNSPECIFIED", "INFORMATIONAL", "LOW", "MEDIUM", "HIGH"];
const sevenDaysAgo = () => new Date(Date.now() - 7 * DAY).toISOString();
const benchUser = (i: number) => `bench\\user${String(i).padStart(6, "0")}`;

function countsOf(alerts: WireObject[], value: (a: WireObject) => string) {
  const counts = new Map<string, number>();
  for (const a of alerts) counts.set(value(a), (counts.get(value(a)) ?? 0) + 1);
  return [...counts].map(([v, count]) => ({ value: v, count })).sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : 1));
}

/** The simulator's alerts a filter of severities and statuses selects. */
function matching(sim: Simulator, severities: string[], statuses: string[]): WireObject[] {
  return [...sim.defenderAlerts.values()].filter(
    (a) =>
      (severities.length === 0 || severities.includes(enumName(a.severity))) &&
      (statuses.length === 0 || statuses.includes(enumName(a.status))),
  );
}

let stack: Stack;
let cached: Stack;
useStackPair(SIM, (plain, keeping) => ([stack, cached] = [plain, keeping]));

const counted = (s: Stack, alertFilter: DefenderAlertFilter | null, first: number, after: string | null = null) =>
  s.gql(DefenderAlertCountsDocument, { alertFilter, first, after });

describe("defenderAlerts: totalCount and facets", () => {
  it.each<[string, string[], string[]]>([
    ["every alert", [], []],
    ["high and medium", ["HIGH", "MEDIUM"], []],
    ["open ones", [], ["NEW", "IN_PROGRESS"]],
  ])("counts %s over the whole filtered set, with one listing call that also serves the page", async (_, severities, statuses) => {
    const want = matching(stack.sim, severities, statuses);
    const alertFilter = severities.length + statuses.length === 0 ? null : { severities: severities as never, statuses: statuses as never };
    const res = await counted(stack, alertFilter, 3);
    expect(res.body.errors).toBeUndefined();
    const conn = res.body.data!.defenderAlerts!;
    expect(conn.edges).toHaveLength(3);
    expect(conn.totalCount).toBe(want.length);
    expect(conn.facets).toEqual({
      severity: countsOf(want, (a) => enumName(a.severity)),
      status: countsOf(want, (a) => enumName(a.status)),
      category: countsOf(want, (a) => (typeof a.category === "string" ? a.category : "UNSPECIFIED")),
      detectionSource: countsOf(want, (a) => (typeof a.detectionSource === "string" ? a.detectionSource : "UNSPECIFIED")),
    });
    expect(Date.parse(conn.countedAt!)).toBeLessThanOrEqual(Date.now());
    // One call: the filtered set's listing, which served the page too.
    expect(defenderCalls(stack.sim)).toBe(1);
    expect(decodeURIComponent(stack.sim.requests.find((r) => r.endpoint === "alerts.list")!.path)).toMatch(/\$top=10000$/);
  });

  it("pages with counts: every alert exactly once, the same count on every page", async () => {
    const want = matching(stack.sim, ["HIGH", "LOW"], []);
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const res = await counted(stack, { severities: ["HIGH", "LOW"] }, 9, after);
      expect(res.body.errors).toBeUndefined();
      const conn = res.body.data!.defenderAlerts!;
      expect(conn.totalCount).toBe(want.length);
      seen.push(...conn.edges.map((e) => e.node.id));
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(want.length);
    expect(new Set(seen)).toEqual(new Set(want.map((a) => String(a.id))));
  });

  it("keeps the counts while fresh: warm, the counts cost no call and the page one", async () => {
    const filter = { severities: ["MEDIUM" as const] };
    const cold = await counted(cached, filter, 2);
    const after = cold.body.data!.defenderAlerts!.pageInfo.endCursor;
    cached.sim.reset();
    const warm = await counted(cached, filter, 2, after);
    expect(warm.body.errors).toBeUndefined();
    expect(warm.body.data!.defenderAlerts!.totalCount).toBe(matching(cached.sim, ["MEDIUM"], []).length);
    expect(warm.body.data!.defenderAlerts!.countedAt).toBe(cold.body.data!.defenderAlerts!.countedAt);
    expect(defenderCalls(cached.sim)).toBe(1);
    const page = decodeURIComponent(cached.sim.requests.find((r) => r.endpoint === "alerts.list")!.path);
    expect(page).toBe("/api/alerts?$filter=severity eq 'Medium'&$top=3&$skip=2");
    expect(cached.logs.entries("graphql request").at(-1)!.plan).toEqual(["alerts: cached counts for defenderAlerts"]);
  });

  it("reads the listing with evidence when the page selects it (still one call)", async () => {
    const res = await stack.post(
      JSON.stringify({
        query: `{ defenderAlerts(first: 2, filter: { severities: [HIGH] }) { totalCount edges { node { evidence { entityType } } } } }`,
      }),
    );
    expect(res.body.errors).toBeUndefined();
    expect(stack.sim.requests.filter((r) => r.endpoint === "alerts.list").map((r) => decodeURIComponent(r.path))).toEqual([
      "/api/alerts?$filter=severity eq 'High'&$top=10000&$expand=evidence",
    ]);
  });

  it("costs the page call only when no count is selected, as before", async () => {
    await stack.post(JSON.stringify({ query: `{ defenderAlerts(first: 2) { edges { node { id } } } }` }));
    expect(stack.sim.requests.filter((r) => r.endpoint === "alerts.list").map((r) => decodeURIComponent(r.path))).toEqual([
      "/api/alerts?$top=3",
    ]);
  });

  it("fails alone when the app lacks Alert.Read.All: defenderAlerts null with UPSTREAM_FORBIDDEN, the fleet still answers", async () => {
    stack.sim.setDefenderRoles(["User.Read.All", "Machine.Read.All"]);
    const res = await stack.post(JSON.stringify({ query: `{ defenderAlerts { totalCount } defenderMachines(first: 1) { totalCount } }` }));
    expect((res.body.data as Record<string, unknown>).defenderAlerts).toBeNull();
    expect((res.body.data as { defenderMachines: { totalCount: number } }).defenderMachines.totalCount).toBe(
      stack.sim.defenderMachines.size,
    );
    expect(res.body.errors!.map((e) => [e.path!.join("."), e.extensions!.code])).toEqual([["defenderAlerts", "UPSTREAM_FORBIDDEN"]]);
  });

  it("is priced with the listing's pages when a count is selected (1 call without, 6 with)", async () => {
    const tight = await startStack({ MAX_DEFENDER_COST: "2" }, SIM);
    try {
      const plain = await tight.post(JSON.stringify({ query: `{ defenderAlerts(first: 1) { edges { node { id } } } }` }));
      expect(plain.body.errors).toBeUndefined();
      for (const count of ["totalCount", "facets { severity { value } }", "... on DefenderAlertConnection { totalCount }"]) {
        const res = await tight.post(JSON.stringify({ query: `{ defenderAlerts(first: 1) { ${count} } }` }));
        expect(codes(res)).toEqual(["OPERATION_LIMIT_EXCEEDED"]);
        expect(JSON.stringify(res.body.errors)).toContain("6 Defender calls");
      }
    } finally {
      await tight.close();
    }
  });
});

describe("defenderAlerts counts beside the fleet views: from the alert window, no listing of their own", () => {
  /** A window no other test of this file asks (its hour is the listing's key), so cold is cold on the caching stack. */
  const since = () => new Date(Date.now() - 3 * DAY - 5 * 3_600_000).toISOString();
  const DASHBOARD = `query($since: DateTime!) {
    peopleAtRisk(since: $since, first: 5) { totalCount edges { node { defender { id } } } }
    defenderAlerts(filter: { createdSince: $since, statuses: [NEW, IN_PROGRESS] }, first: 0) {
      totalCount facets { severity { value count } } pageInfo { hasNextPage } edges { node { id } } }
  }`;
  const openSince = (sim: Simulator, from: string): WireObject[] =>
    [...sim.defenderAlerts.values()].filter(
      (a) => Date.parse(String(a.alertCreationTime)) >= Date.parse(from) && ["New", "InProgress"].includes(String(a.status)),
    );

  it("counts a filter with createdSince from the window peopleAtRisk lists (1 call cold), first: 0 asks no page; warm 0 calls", async () => {
    const from = since();
    const cold = await cached.post(JSON.stringify({ query: DASHBOARD, variables: { since: from } }));
    expect(cold.body.errors).toBeUndefined();
    const want = openSince(cached.sim, from);
    const conn = (
      cold.body.data as { defenderAlerts: { totalCount: number; facets: unknown; pageInfo: { hasNextPage: boolean }; edges: [] } }
    ).defenderAlerts;
    expect(want.length).toBeGreaterThan(0);
    expect(conn.totalCount).toBe(want.length);
    expect(conn.facets).toEqual({ severity: countsOf(want, (a) => enumName(a.severity)) });
    expect(conn.edges).toEqual([]);
    expect(conn.pageInfo.hasNextPage).toBe(true);
    // The window's one listing (with evidence), nothing filtered by status, no $top=1 page.
    expect(cached.sim.requests.filter((r) => r.kind === "api" && r.source === "DEFENDER").map((r) => decodeURIComponent(r.path))).toEqual([
      expect.stringMatching(/^\/api\/alerts\?\$filter=lastUpdateTime ge [^&]+&\$top=10000&\$expand=evidence$/),
    ]);
    cached.sim.reset();
    const warm = await cached.post(JSON.stringify({ query: DASHBOARD, variables: { since: from } }));
    expect(warm.body.data).toEqual(cold.body.data);
    expect(defenderCalls(cached.sim)).toBe(0);
  });

  it("counts per filter once the window outgrew its bound (5 pages): the first request fails alone at its price, later ones list the filtered set only", async () => {
    const from = new Date(Date.now() - 2 * DAY - 7 * 3_600_000).toISOString();
    const start = Math.floor(Date.parse(from) / 3_600_000) * 3_600_000;
    const inWindow = [...stack.sim.defenderAlerts.values()].filter((a) => Date.parse(String(a.lastUpdateTime)) >= start).length;
    const open = openSince(stack.sim, from).length;
    // Pages small enough that the window takes more than 5 and the open set at most 5.
    const size = Math.ceil(open / 5);
    expect(5 * size).toBeLessThan(inWindow);
    const query = JSON.stringify({
      query: `query($f: DefenderAlertFilter) { defenderAlerts(filter: $f, first: 0) { totalCount } }`,
      variables: { f: { createdSince: from, statuses: ["NEW", "IN_PROGRESS"] } },
    });
    stack.sim.defenderPageSize = size;
    const first = await stack.post(query);
    expect(codes(first)).toEqual(["OPERATION_LIMIT_EXCEEDED"]);
    expect(defenderCalls(stack.sim)).toBe(6);
    stack.sim.reset();
    stack.sim.defenderPageSize = size;
    const second = await stack.post(query);
    expect(second.body.errors).toBeUndefined();
    expect((second.body.data as { defenderAlerts: { totalCount: number } }).defenderAlerts.totalCount).toBe(open);
    expect(stack.sim.count({ source: "DEFENDER", kind: "api", pathIncludes: "lastUpdateTime" })).toBe(0);
    expect(defenderCalls(stack.sim)).toBe(Math.ceil(open / size));
  });

  it("pages from the window with the counts: every matching alert exactly once, in Defender's order", async () => {
    const from = since();
    const want = openSince(stack.sim, from)
      .sort(
        (a, b) => Date.parse(String(b.lastUpdateTime)) - Date.parse(String(a.lastUpdateTime)) || String(a.id).localeCompare(String(b.id)),
      )
      .map((a) => String(a.id));
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const res = await counted(stack, { createdSince: from, statuses: ["NEW", "IN_PROGRESS"] }, 7, after);
      expect(res.body.errors).toBeUndefined();
      const conn = res.body.data!.defenderAlerts!;
      expect(conn.totalCount).toBe(want.length);
      seen.push(...conn.edges.map((e) => e.node.id));
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(seen).toEqual(want);
    // Caching is off here: one window listing a page, nothing else.
    expect(stack.sim.count({ source: "DEFENDER", kind: "api", pathIncludes: "status" })).toBe(0);
  });
});

describe("DefenderUser.alerts and DefenderMachine.alerts: status and minSeverity", () => {
  /** The simulator's answer: the user's alerts in the window, newest first, filtered by status and least severity. */
  function expectedAlerts(sim: Simulator, userName: string, since: string, statuses: string[], least: string, first: number): string[] {
    const start = Date.parse(since);
    return [...sim.defenderAlerts.values()]
      .filter(
        (a) => (a.relatedUser as { userName?: string } | null)?.userName === userName && Date.parse(String(a.lastUpdateTime)) >= start,
      )
      .filter(
        (a) =>
          (statuses.length === 0 || statuses.includes(enumName(a.status))) &&
          SEVERITY.indexOf(enumName(a.severity)) >= SEVERITY.indexOf(least),
      )
      .sort(
        (a, b) => Date.parse(String(b.lastUpdateTime)) - Date.parse(String(a.lastUpdateTime)) || String(a.id).localeCompare(String(b.id)),
      )
      .slice(0, first)
      .map((a) => String(a.id));
  }

  it("filters one user's alerts (the per-user call) by status and least severity", async () => {
    const since = new Date(Date.now() - 60 * DAY).toISOString();
    const res = await stack.post(
      JSON.stringify({
        query: `query($since: DateTime) { defenderUser(id: "contoso\\\\alice") {
          open: alerts(since: $since, status: [NEW, IN_PROGRESS]) { id }
          high: alerts(since: $since, minSeverity: HIGH) { id severity }
          all: alerts(since: $since) { id } } }`,
        variables: { since },
      }),
    );
    expect(res.body.errors).toBeUndefined();
    const user = (res.body.data as { defenderUser: Record<string, Array<{ id: string }>> }).defenderUser;
    expect(user.open!.map((a) => a.id)).toEqual(expectedAlerts(stack.sim, "alice", since, ["NEW", "IN_PROGRESS"], "UNSPECIFIED", 20));
    expect(user.high!.map((a) => a.id)).toEqual(expectedAlerts(stack.sim, "alice", since, [], "HIGH", 20));
    expect(user.high!.length).toBeLessThan(user.all!.length);
    // All three share the one entry of the window: one alerts call (and the user's own).
    expect(api(stack.sim, "users.alerts")).toBe(1);
    expect(defenderCalls(stack.sim)).toBe(2);
  });

  it("filters 50 users' alerts served by the window listing (1 call), first applying after the filter", async () => {
    const since = sevenDaysAgo();
    const ids = Array.from({ length: 50 }, (_, i) => benchUser(i));
    const res = await stack.post(
      JSON.stringify({
        query: `query($ids: [ID!]!, $since: DateTime) { defenderUsers(ids: $ids) { id alerts(since: $since, status: [NEW, IN_PROGRESS], minSeverity: MEDIUM, first: 2) { id } } }`,
        variables: { ids, since },
      }),
    );
    expect(res.body.errors).toBeUndefined();
    const users = (res.body.data as { defenderUsers: Array<{ alerts: Array<{ id: string }> }> }).defenderUsers;
    users.forEach((u, i) =>
      expect(u.alerts.map((a) => a.id)).toEqual(
        expectedAlerts(stack.sim, `user${String(i).padStart(6, "0")}`, since, ["NEW", "IN_PROGRESS"], "MEDIUM", 2),
      ),
    );
    expect(users.some((u) => u.alerts.length > 0)).toBe(true);
    expect(api(stack.sim, "alerts.list")).toBe(1);
    expect(api(stack.sim, "users.alerts")).toBe(0);
  });

  it("filters a machine's alerts the same way", async () => {
    const res = await stack.post(
      JSON.stringify({
        query: `{ defenderMachine(id: "${DEMO_MACHINES.sharedServer}") { inProgress: alerts(status: [IN_PROGRESS]) { id status } resolved: alerts(status: [RESOLVED]) { id } } }`,
      }),
    );
    expect(res.body.errors).toBeUndefined();
    const want = [...stack.sim.defenderAlerts.values()].filter((a) => a.machineId === DEMO_MACHINES.sharedServer);
    const data = (
      res.body.data as { defenderMachine: { inProgress: Array<{ id: string; status: string }>; resolved: Array<{ id: string }> } }
    ).defenderMachine;
    expect(new Set(data.inProgress.map((a) => a.id))).toEqual(
      new Set(want.filter((a) => a.status === "InProgress").map((a) => String(a.id))),
    );
    expect(data.inProgress.length).toBeGreaterThan(0);
    expect(new Set(data.resolved.map((a) => a.id))).toEqual(new Set(want.filter((a) => a.status === "Resolved").map((a) => String(a.id))));
  });

  it("refuses more than five statuses before any call", async () => {
    const res = await stack.post(
      JSON.stringify({
        query: `{ defenderUser(id: "${DEMO.defenderAlice.replace("\\", "\\\\")}") { alerts(status: [NEW, NEW, NEW, NEW, NEW, NEW]) { id } } }`,
      }),
    );
    expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
    expect(api(stack.sim, "users.alerts")).toBe(0);
  });
});
