import type { Simulator } from "../../src/simulator/simulator";
import {
  DefenderUsersAtRiskPageDocument,
  DefenderUsersAtRiskWithUserDocument,
  type DefenderUsersAtRiskPageQueryVariables,
  type AlertSeverity,
  type AlertStatus,
} from "../__generated__/operations";
import { expectedRanking, SEVERITY } from "../helpers/risk-ranking";
import { codes, startStack, useStackPair, type Stack } from "../helpers/stack";

/**
 * defenderUsersAtRisk end to end against the simulator: the ranking (computed here from the simulator's
 * alerts, not written down), its filters, paging (every account exactly once), counts, Defender calls cold
 * and warm, the `user` selection's calls, the price, and the field failing alone.
 */

const DAY = 86_400_000;
const SIM = { extraDefenderUsers: 60, extraDefenderMachines: 60, extraDefenderAlerts: 200 };
const defenderCalls = (sim: Simulator) => sim.count({ source: "DEFENDER", kind: "api" });
const api = (sim: Simulator, endpoint: string) => sim.count({ source: "DEFENDER", kind: "api", endpoint: endpoint as never });
const daysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString();

let stack: Stack;
let cached: Stack;
useStackPair(SIM, (plain, keeping) => ([stack, cached] = [plain, keeping]));

const page = (
  s: Stack,
  vars: { since: string; minSeverity?: AlertSeverity; status?: AlertStatus[]; first?: number; after?: string | null },
) =>
  s.gql(DefenderUsersAtRiskPageDocument, {
    minSeverity: null,
    status: null,
    first: null,
    after: null,
    ...vars,
  } as DefenderUsersAtRiskPageQueryVariables);

describe("defenderUsersAtRisk", () => {
  it.each<[string, AlertSeverity | undefined, AlertStatus[]]>([
    ["by default (LOW and up, every status)", undefined, []],
    ["with minSeverity HIGH", "HIGH", []],
    ["with only the open alerts counted", "INFORMATIONAL", ["NEW", "IN_PROGRESS"]],
  ])("ranks the accounts %s as the alerts say, from one listing call with evidence", async (_, minSeverity, status) => {
    const since = daysAgo(7);
    const want = expectedRanking(stack.sim, since, minSeverity ?? "LOW", status);
    expect(want.length).toBeGreaterThan(5);
    const res = await page(stack, { since, minSeverity, status: status.length > 0 ? status : undefined, first: 1000 });
    expect(res.body.errors).toBeUndefined();
    const conn = res.body.data!.defenderUsersAtRisk!;
    expect(conn.totalCount).toBe(want.length);
    expect(conn.complete).toBe(true);
    expect(conn.edges.map(({ node: { alerts: _, accountName: __, accountDomain: ___, ...n } }) => n)).toEqual(want);
    // Each account's alerts are its counted ones, newest first.
    for (const { node } of conn.edges) {
      expect(node.alerts.length).toBe(Math.min(3, node.alertCount));
      if (minSeverity)
        for (const a of node.alerts) expect(SEVERITY.indexOf(a.severity)).toBeGreaterThanOrEqual(SEVERITY.indexOf(minSeverity));
    }
    expect(defenderCalls(stack.sim)).toBe(1);
    const path = decodeURIComponent(stack.sim.requests.find((r) => r.endpoint === "alerts.list")!.path);
    expect(path).toMatch(/^\/api\/alerts\?\$filter=lastUpdateTime ge \S+Z&\$top=10000&\$expand=evidence$/);
  });

  it("splits the account into name and domain as the alerts write them", async () => {
    const res = await page(stack, { since: daysAgo(7), first: 1000 });
    const alice = res.body.data!.defenderUsersAtRisk!.edges.find((e) => e.node.id === "contoso\\alice")!.node;
    expect([alice.accountName, alice.accountDomain]).toEqual(["alice", "CONTOSO"]);
  });

  it("pages through every account exactly once, in rank order, with the same total on every page", async () => {
    const since = daysAgo(7);
    const want = expectedRanking(stack.sim, since, "LOW").map((r) => r.id);
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const res = await page(stack, { since, first: 7, after });
      expect(res.body.errors).toBeUndefined();
      const conn = res.body.data!.defenderUsersAtRisk!;
      expect(conn.totalCount).toBe(want.length);
      expect(conn.pageInfo.hasPreviousPage).toBe(after !== null);
      seen.push(...conn.edges.map((e) => e.node.id));
      pages++;
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(pages).toBe(Math.ceil(want.length / 7));
    expect(seen).toEqual(want);
  });

  it("pages on after the listing changed between pages: no account repeated, none that stayed skipped", async () => {
    const since = daysAgo(7);
    const before = expectedRanking(stack.sim, since, "LOW").map((r) => r.id);
    const first = await page(stack, { since, first: 5 });
    const seen = first.body.data!.defenderUsersAtRisk!.edges.map((e) => e.node.id);
    // A new account rises to the top and one not yet shown loses its alerts: the next listing (TTL 0) differs.
    const template = [...stack.sim.defenderAlerts.values()][0]!;
    // Ten open High alerts: it ranks above every account (before the cursor), so it is not on a later page.
    const added = Array.from({ length: 10 }, (_, n) => ({
      ...template,
      id: `da63867999999999999${n}_-1`,
      severity: "High",
      status: "New",
      lastUpdateTime: new Date().toISOString(),
      relatedUser: { userName: "newcomer", domainName: "CONTOSO" },
    }));
    const gone = before[8]!;
    const removed = [...stack.sim.defenderAlerts].filter(([, a]) => {
      const u = a.relatedUser as { userName?: string; domainName?: string } | null;
      return u?.userName !== undefined && `${u.domainName}\\${u.userName}`.toLowerCase() === gone;
    });
    for (const a of added) stack.sim.defenderAlerts.set(a.id, a);
    for (const [id] of removed) stack.sim.defenderAlerts.delete(id);
    try {
      let after = first.body.data!.defenderUsersAtRisk!.pageInfo.endCursor;
      for (;;) {
        const res = await page(stack, { since, first: 5, after });
        expect(res.body.errors).toBeUndefined();
        const conn = res.body.data!.defenderUsersAtRisk!;
        seen.push(...conn.edges.map((e) => e.node.id));
        if (!conn.pageInfo.hasNextPage) break;
        after = conn.pageInfo.endCursor;
      }
      // The change was in the listing the later pages read: a first page now starts with the newcomer.
      const top = await page(stack, { since, first: 1 });
      expect(top.body.data!.defenderUsersAtRisk!.edges[0]!.node.id).toBe("contoso\\newcomer");
    } finally {
      for (const a of added) stack.sim.defenderAlerts.delete(a.id);
      for (const [id, a] of removed) stack.sim.defenderAlerts.set(id, a);
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(before.filter((id) => id !== gone));
  });

  it("keeps the listing while fresh: warm pages and other arguments cost no call; `user` costs one users/{id} call per account", async () => {
    // A window of its own (the listings of the cached stack are kept across its tests).
    const since = daysAgo(5);
    const cold = await page(cached, { since, first: 4 });
    expect(cold.body.errors).toBeUndefined();
    expect(defenderCalls(cached.sim)).toBe(1);
    cached.sim.reset();
    const next = await page(cached, { since, first: 4, after: cold.body.data!.defenderUsersAtRisk!.pageInfo.endCursor });
    const high = await page(cached, { since, minSeverity: "HIGH", first: 4 });
    expect(next.body.errors).toBeUndefined();
    expect(high.body.errors).toBeUndefined();
    expect(next.body.data!.defenderUsersAtRisk!.listedAt).toBe(cold.body.data!.defenderUsersAtRisk!.listedAt);
    expect(defenderCalls(cached.sim)).toBe(0);
    expect(cached.logs.entries("graphql request").at(-1)!.plan).toEqual(["alerts: cached window for users at risk"]);
    const withUser = await cached.gql(DefenderUsersAtRiskWithUserDocument, { since, first: 5 });
    expect(withUser.body.errors).toBeUndefined();
    const nodes = withUser.body.data!.defenderUsersAtRisk!.edges.map((e) => e.node);
    expect(nodes.map((n) => n.user?.id.toLowerCase())).toEqual(nodes.map((n) => n.id));
    expect(api(cached.sim, "users.get")).toBe(5);
    expect(defenderCalls(cached.sim)).toBe(5);
  });

  it("serves DefenderUser.alerts of the same window from the listing it primed (no further call)", async () => {
    const since = daysAgo(3);
    // The last account of the ranking: one no other test of this stack loads as a user.
    const all = await page(cached, { since, first: 1000 });
    const last = all.body.data!.defenderUsersAtRisk!.edges.at(-1)!.node.id;
    cached.sim.reset();
    const res = await cached.post(
      JSON.stringify({
        query: `query($since: DateTime, $id: ID!) { a: defenderUser(id: $id) { alerts(since: $since) { id } } }`,
        variables: { since, id: last },
      }),
    );
    expect(res.body.errors).toBeUndefined();
    expect((res.body.data as { a: { alerts: unknown[] } }).a.alerts.length).toBeGreaterThan(0);
    expect(api(cached.sim, "users.alerts")).toBe(0);
    expect(api(cached.sim, "alerts.list")).toBe(0);
  });

  it("refuses a cursor of other arguments, an altered one and one of defenderMachines with BAD_USER_INPUT, before any call", async () => {
    const since = daysAgo(7);
    const first = await page(stack, { since, first: 2 });
    const cursor = first.body.data!.defenderUsersAtRisk!.pageInfo.endCursor!;
    const machines = await stack.post(JSON.stringify({ query: `{ defenderMachines(first: 1) { pageInfo { endCursor } } }` }));
    const machineCursor = (machines.body.data as { defenderMachines: { pageInfo: { endCursor: string } } }).defenderMachines.pageInfo
      .endCursor;
    stack.sim.reset();
    const [payload, mac] = cursor.split(".");
    for (const [vars, after] of [
      [{ since, minSeverity: "HIGH" as const }, cursor],
      [{ since: daysAgo(6) }, cursor],
      [{ since }, `${payload}x.${mac}`],
      [{ since }, machineCursor],
    ] as const) {
      const res = await page(stack, { ...vars, first: 2, after });
      expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
      expect(res.body.data?.defenderUsersAtRisk ?? null).toBeNull();
    }
    expect(defenderCalls(stack.sim)).toBe(0);
  });

  it("fails alone when the app lacks Alert.Read.All: null with UPSTREAM_FORBIDDEN, the fleet still answers", async () => {
    stack.sim.setDefenderRoles(["User.Read.All", "Machine.Read.All"]);
    const res = await stack.post(
      JSON.stringify({
        query: `query($since: DateTime!) { defenderUsersAtRisk(since: $since) { totalCount } defenderMachines(first: 1) { totalCount } }`,
        variables: { since: daysAgo(7) },
      }),
    );
    const data = res.body.data as { defenderUsersAtRisk: unknown; defenderMachines: { totalCount: number } };
    expect(data.defenderUsersAtRisk).toBeNull();
    expect(data.defenderMachines.totalCount).toBe(stack.sim.defenderMachines.size);
    expect(res.body.errors!.map((e) => [e.path!.join("."), e.extensions!.code])).toEqual([["defenderUsersAtRisk", "UPSTREAM_FORBIDDEN"]]);
  });

  it("is priced by the listing's pages (5), plus one call per account when `user` is selected", async () => {
    const tight = await startStack({ MAX_DEFENDER_COST: "9" }, SIM);
    try {
      const since = daysAgo(7);
      const plain = await page(tight, { since, first: 1000 });
      expect(plain.body.errors).toBeUndefined();
      expect((await tight.gql(DefenderUsersAtRiskWithUserDocument, { since, first: 4 })).body.errors).toBeUndefined();
      const res = await tight.gql(DefenderUsersAtRiskWithUserDocument, { since, first: 5 });
      expect(codes(res)).toEqual(["OPERATION_LIMIT_EXCEEDED"]);
      expect(JSON.stringify(res.body.errors)).toContain("10 Defender calls");
    } finally {
      await tight.close();
    }
  });
});
