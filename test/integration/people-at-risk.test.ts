import { PeopleAtRiskPageDocument, type PeopleAtRiskPageQueryVariables } from "../__generated__/operations";
import { expectedRanking } from "../helpers/risk-ranking";
import { codes, startStack, useStackPair, type Stack } from "../helpers/stack";
import type { Simulator } from "../../src/simulator/simulator";

/**
 * peopleAtRisk end to end against the simulator: the ranking of defenderUsersAtRisk (computed here from the
 * simulator's alerts) joined to ESET's user list, checked person by person against what the per-person
 * link path (defenderUser { esetLinks } with the alerts' evidence beside it) finds; the filters on the
 * join, paging, calls cold and warm (one alert listing and ESET's list, never one ESET search per
 * person), the price, and each vendor failing.
 */

const DAY = 86_400_000;
// 60 accounts with alerts, 40 of them with a generated ESET user (named by the alerts' User evidence): 20 coverage gaps.
const SIM = { extraDefenderUsers: 60, extraDefenderMachines: 60, extraDefenderAlerts: 240, extraEsetUsers: 40 };
const daysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString();
const esetCalls = (sim: Simulator) => sim.count({ source: "ESET", kind: "api" });
const defenderCalls = (sim: Simulator) => sim.count({ source: "DEFENDER", kind: "api" });
const WEAKEST = ["UNPROTECTED", "UNSPECIFIED", "PENDING", "PARTIALLY_PROTECTED", "FULLY_PROTECTED"];

interface Linked {
  uuids: string[];
  protections: string[];
  reasons: string[];
}

let stack: Stack;
let cached: Stack;
useStackPair(SIM, (plain, keeping) => ([stack, cached] = [plain, keeping]));

const people = (s: Stack, vars: Partial<PeopleAtRiskPageQueryVariables> & { since: string }) =>
  s.gql(PeopleAtRiskPageDocument, {
    minSeverity: null,
    esetProtection: null,
    withoutEsetUser: null,
    first: null,
    after: null,
    ...vars,
  } as PeopleAtRiskPageQueryVariables);

/** What the per-person path links to each account (ESET searches, with the account's alerts' evidence at hand). */
async function linksOneByOne(ids: string[], since: string): Promise<Map<string, Linked>> {
  const out = new Map<string, Linked>();
  for (let i = 0; i < ids.length; i += 8) {
    const chunk = ids.slice(i, i + 8);
    const query = `query($since: DateTime) { ${chunk
      .map(
        (id, j) =>
          `u${j}: defenderUser(id: ${JSON.stringify(id)}) { alerts(since: $since, first: 1) { evidence { entityType } } esetLinks { esetUser { uuid protectionStatus } matchedOn { rule esetField esetValue defenderValue } } }`,
      )
      .join(" ")} }`;
    const res = await stack.post(JSON.stringify({ query, variables: { since } }));
    expect(res.body.errors).toBeUndefined();
    const data = res.body.data as Record<
      string,
      { esetLinks: Array<{ esetUser: { uuid: string; protectionStatus: string }; matchedOn: Array<Record<string, string>> }> } | null
    >;
    chunk.forEach((id, j) => {
      const links = data[`u${j}`]?.esetLinks ?? [];
      out.set(id, {
        uuids: links.map((l) => l.esetUser.uuid).sort(),
        protections: links.map((l) => l.esetUser.protectionStatus),
        reasons: [
          ...new Set(links.flatMap((l) => l.matchedOn.map((r) => JSON.stringify([r.rule, r.esetField, r.esetValue, r.defenderValue])))),
        ].sort(),
      });
    });
  }
  return out;
}

describe("peopleAtRisk", () => {
  it("ranks like defenderUsersAtRisk and links each account to the ESET users the per-person path finds, with the weakest protection", async () => {
    const since = daysAgo(7);
    const ranking = expectedRanking(stack.sim, since, "MEDIUM");
    const res = await people(stack, { since, first: 1000 });
    expect(res.body.errors).toBeUndefined();
    const conn = res.body.data!.peopleAtRisk!;
    expect(conn.complete).toBe(true);
    expect(conn.edges.map((e) => e.node.defender.id)).toEqual(ranking.map((r) => r.id));
    expect(conn.totalCount).toBe(ranking.length);
    const oracle = await linksOneByOne(
      ranking.map((r) => r.id),
      since,
    );
    let linked = 0;
    let gaps = 0;
    for (const { node } of conn.edges) {
      const want = oracle.get(node.defender.id)!;
      expect([node.defender.id, node.esetUsers.map((u) => u.uuid).sort()]).toEqual([node.defender.id, want.uuids]);
      const reasons = node.matchedOn.map((r) => JSON.stringify([r.rule, r.esetField, r.esetValue, r.defenderValue]));
      expect(new Set(reasons).size).toBe(reasons.length);
      expect([...reasons].sort()).toEqual(want.reasons);
      const weakest = want.protections.length === 0 ? null : want.protections.sort((a, b) => WEAKEST.indexOf(a) - WEAKEST.indexOf(b))[0];
      expect(node.weakestProtection).toBe(weakest);
      if (want.uuids.length > 0) linked++;
      else gaps++;
    }
    // The data has both kinds (a join that links nobody, or everybody, would prove little).
    expect(linked).toBeGreaterThan(5);
    expect(gaps).toBeGreaterThan(5);
    expect(conn.edges.some((e) => e.node.matchedOn.some((r) => r.rule === "ALERT_EVIDENCE"))).toBe(true);
  });

  it("filters to the coverage gap (withoutEsetUser: true), to the covered (false) and by weakest protection", async () => {
    const since = daysAgo(7);
    const all = (await people(stack, { since, first: 1000 })).body.data!.peopleAtRisk!.edges.map((e) => e.node);
    const ids = (nodes: typeof all) => nodes.map((n) => n.defender.id);
    const gap = (await people(stack, { since, first: 1000, withoutEsetUser: true })).body.data!.peopleAtRisk!;
    expect(ids(gap.edges.map((e) => e.node))).toEqual(ids(all.filter((n) => n.esetUsers.length === 0)));
    expect(gap.totalCount).toBe(gap.edges.length);
    const covered = (await people(stack, { since, first: 1000, withoutEsetUser: false })).body.data!.peopleAtRisk!;
    expect(ids(covered.edges.map((e) => e.node))).toEqual(ids(all.filter((n) => n.esetUsers.length > 0)));
    const weak = (await people(stack, { since, first: 1000, esetProtection: ["UNPROTECTED", "PENDING"] })).body.data!.peopleAtRisk!;
    expect(weak.edges.length).toBeGreaterThan(0);
    expect(ids(weak.edges.map((e) => e.node))).toEqual(
      ids(all.filter((n) => n.weakestProtection === "UNPROTECTED" || n.weakestProtection === "PENDING")),
    );
  });

  it("pages through every person exactly once, in rank order, filters included", async () => {
    const since = daysAgo(7);
    const want = (await people(stack, { since, first: 1000, withoutEsetUser: false })).body.data!.peopleAtRisk!.edges.map(
      (e) => e.node.defender.id,
    );
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const res = await people(stack, { since, first: 6, withoutEsetUser: false, after });
      expect(res.body.errors).toBeUndefined();
      const conn = res.body.data!.peopleAtRisk!;
      expect(conn.totalCount).toBe(want.length);
      seen.push(...conn.edges.map((e) => e.node.defender.id));
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(seen).toEqual(want);
    // A cursor of one filter is refused by another, before any call.
    stack.sim.reset();
    const other = await people(stack, { since, first: 6, withoutEsetUser: true, after: seen.length > 0 ? after : null });
    if (after !== null) {
      expect(codes(other)).toEqual(["BAD_USER_INPUT"]);
      expect(defenderCalls(stack.sim) + esetCalls(stack.sim)).toBe(0);
    }
  });

  it("costs one alert listing and ESET's list pages cold (no ESET search per person), nothing warm", async () => {
    const since = daysAgo(7);
    const cold = await people(cached, { since, first: 50 });
    expect(cold.body.errors).toBeUndefined();
    expect(cold.body.data!.peopleAtRisk!.edges.length).toBeGreaterThan(20);
    expect(defenderCalls(cached.sim)).toBe(1);
    expect(cached.sim.count({ source: "DEFENDER", kind: "api", endpoint: "alerts.list" })).toBe(1);
    const esetPaths = cached.sim.requests.filter((r) => r.source === "ESET" && r.kind === "api").map((r) => r.path);
    expect(esetPaths).toEqual(
      Array.from({ length: Math.ceil(cached.sim.esetUsers.size / 1000) }, () => expect.stringMatching(/^\/v1\/users\?pageSize=1000/)),
    );
    cached.sim.reset();
    const warm = await people(cached, { since, first: 50, withoutEsetUser: true });
    const again = await people(cached, { since, first: 50, after: cold.body.data!.peopleAtRisk!.pageInfo.endCursor });
    expect(warm.body.errors).toBeUndefined();
    expect(again.body.errors).toBeUndefined();
    expect(defenderCalls(cached.sim) + esetCalls(cached.sim)).toBe(0);
    expect(warm.body.data!.peopleAtRisk!.esetListedAt).toBe(cold.body.data!.peopleAtRisk!.esetListedAt);
  });

  it("fails alone when the alert listing is forbidden: null with UPSTREAM_FORBIDDEN, ESET's list still answers", async () => {
    stack.sim.setDefenderRoles(["User.Read.All", "Machine.Read.All"]);
    const res = await stack.post(
      JSON.stringify({
        query: `query($since: DateTime!) { peopleAtRisk(since: $since) { totalCount } esetUserList(first: 1) { edges { node { uuid } } } }`,
        variables: { since: daysAgo(7) },
      }),
    );
    const data = res.body.data as { peopleAtRisk: unknown; esetUserList: { edges: unknown[] } };
    expect(data.peopleAtRisk).toBeNull();
    expect(data.esetUserList.edges).toHaveLength(1);
    expect(res.body.errors!.map((e) => [e.path!.join("."), e.extensions!.code])).toEqual([["peopleAtRisk", "UPSTREAM_FORBIDDEN"]]);
  });

  it("fails alone when ESET is down (no join rather than everyone shown unprotected): null with ESET's error, defenderUsersAtRisk answers", async () => {
    stack.sim.inject({ target: "eset", kind: "status", status: 503, times: 1000 });
    const res = await stack.post(
      JSON.stringify({
        query: `query($since: DateTime!) { peopleAtRisk(since: $since) { totalCount } defenderUsersAtRisk(since: $since) { totalCount } }`,
        variables: { since: daysAgo(7) },
      }),
    );
    const data = res.body.data as { peopleAtRisk: unknown; defenderUsersAtRisk: { totalCount: number } };
    expect(data.peopleAtRisk).toBeNull();
    expect(data.defenderUsersAtRisk.totalCount).toBe(expectedRanking(stack.sim, daysAgo(7), "LOW").length);
    expect(res.body.errors!.map((e) => e.path!.join("."))).toEqual(["peopleAtRisk"]);
    expect(res.body.errors![0]!.extensions!.source).toBe("ESET");
  });

  it("accepts a 50-person page with each account, its machine and its alerts, and spends far less than per user", async () => {
    const res = await stack.post(
      JSON.stringify({
        query: `query($since: DateTime!) { peopleAtRisk(since: $since, first: 50) { edges { node {
          defender { id alerts(first: 5) { id machine { computerDnsName } } user { id mostPrevalentMachine { computerDnsName riskScore } } }
          weakestProtection esetUsers { displayName } } } } }`,
        variables: { since: daysAgo(7) },
      }),
    );
    expect(res.body.errors).toBeUndefined();
    const edges = (res.body.data as { peopleAtRisk: { edges: unknown[] } }).peopleAtRisk.edges;
    expect(edges).toHaveLength(Math.min(50, expectedRanking(stack.sim, daysAgo(7), "MEDIUM").length));
    // One alert listing, one users/{id} per person, the machines from one fleet listing; ESET: its list, once.
    expect(stack.sim.count({ source: "DEFENDER", kind: "api", endpoint: "alerts.list" })).toBe(1);
    expect(stack.sim.count({ source: "DEFENDER", kind: "api", endpoint: "users.get" })).toBe(edges.length);
    expect(stack.sim.count({ source: "DEFENDER", kind: "api", endpoint: "machines.get" })).toBe(0);
    expect(esetCalls(stack.sim)).toBe(1);
  });

  it("is priced by both listings' pages: 5 Defender calls and 10 ESET calls whatever the page", async () => {
    const tight = await startStack({ MAX_DEFENDER_COST: "5" }, SIM);
    try {
      const res = await people(tight, { since: daysAgo(7), first: 1000 });
      expect(res.body.errors).toBeUndefined();
      const user = await tight.post(
        JSON.stringify({
          query: `query($since: DateTime!) { peopleAtRisk(since: $since, first: 1) { edges { node { defender { user { id } } } } } }`,
          variables: { since: daysAgo(7) },
        }),
      );
      expect(codes(user)).toEqual(["OPERATION_LIMIT_EXCEEDED"]);
      expect(JSON.stringify(user.body.errors)).toContain("6 Defender calls");
    } finally {
      await tight.close();
    }
  });
});

describe("peopleAtRisk on the demo data", () => {
  it("shows a few people at risk, some unprotected, and the service account ESET does not know (the coverage gap)", async () => {
    const demo = await startStack();
    try {
      const since = daysAgo(7);
      const all = (await people(demo, { since })).body.data!.peopleAtRisk!;
      expect(all.totalCount).toBe(expectedRanking(demo.sim, since, "MEDIUM").length);
      expect(all.totalCount).toBeGreaterThanOrEqual(3);
      expect(all.edges.some((e) => e.node.weakestProtection === "UNPROTECTED")).toBe(true);
      const gap = (await people(demo, { since, withoutEsetUser: true })).body.data!.peopleAtRisk!;
      expect(gap.edges.map((e) => [e.node.defender.id, e.node.weakestProtection, e.node.esetUsers])).toEqual([
        ["contoso\\svc-backup", null, []],
      ]);
    } finally {
      await demo.close();
    }
  });
});
