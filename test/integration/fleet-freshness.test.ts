import { ListingBudget } from "../../src/store/listing-budget";
import type { WireObject } from "../../src/simulator/demo-data";
import type { Simulator } from "../../src/simulator/simulator";
import { expectedRanking } from "../helpers/risk-ranking";
import { startStack, type Stack } from "../helpers/stack";

/**
 * How the fleet views' listings stay fresh and bounded, end to end against the simulator: the alert window
 * refreshed by delta (`lastUpdateTime ge` the last read) and merged, at one call; the listing budget
 * (LISTINGS_MAX_MB) that keeps what fits and relists what does not.
 */

const DAY = 86_400_000;
const SIM = { extraDefenderUsers: 60, extraDefenderMachines: 60, extraDefenderAlerts: 200 };
const defenderCalls = (sim: Simulator) => sim.count({ source: "DEFENDER", kind: "api" });
const daysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString();

const RISK = `query($since: DateTime!) {
  defenderUsersAtRisk(since: $since, first: 1000) { totalCount complete listedAt
    edges { node { id highestSeverity alertCount openAlertCount lastAlertTime } } }
  defenderAlerts(filter: { createdSince: $since, statuses: [NEW, IN_PROGRESS] }, first: 0) { totalCount }
}`;
interface RiskAnswer {
  defenderUsersAtRisk: {
    totalCount: number;
    complete: boolean;
    listedAt: string;
    edges: Array<{ node: Record<string, unknown> }>;
  };
  defenderAlerts: { totalCount: number };
}
const openSince = (sim: Simulator, since: string) =>
  [...sim.defenderAlerts.values()].filter(
    (a) => Date.parse(String(a.alertCreationTime)) >= Date.parse(since) && ["New", "InProgress"].includes(String(a.status)),
  ).length;

describe("the alert window refreshed by delta", () => {
  let s: Stack;
  beforeAll(async () => {
    // Kept 60 s, refreshed by delta once a second old.
    s = await startStack({ CACHE_TTL_SECONDS: "60", ALERT_DELTA_SECONDS: "1" }, SIM);
  });
  afterAll(() => s.close());

  const ask = async (since: string) => {
    const res = await s.post(JSON.stringify({ query: RISK, variables: { since } }));
    expect(res.body.errors).toBeUndefined();
    return res.body.data as unknown as RiskAnswer;
  };

  it("asks only what changed since the last read (1 call), merges it by id, and answers as a whole listing would", async () => {
    const since = daysAgo(7);
    const cold = await ask(since);
    expect(defenderCalls(s.sim)).toBe(1);
    const coldListedAt = Date.parse(cold.defenderUsersAtRisk.listedAt);

    // Defender moves on: the riskiest account's open alerts are resolved, and a new HIGH alert names another account.
    const top = String(cold.defenderUsersAtRisk.edges[0]!.node.id);
    const now = new Date().toISOString();
    let resolved = 0;
    for (const a of s.sim.defenderAlerts.values()) {
      const user = a.relatedUser as { userName?: string; domainName?: string } | null;
      const id = user?.domainName ? `${user.domainName}\\${user.userName}`.toLowerCase() : user?.userName?.toLowerCase();
      if (id === top && ["New", "InProgress"].includes(String(a.status))) {
        a.status = "Resolved";
        a.lastUpdateTime = now;
        resolved++;
      }
    }
    expect(resolved).toBeGreaterThan(0);
    const template = [...s.sim.defenderAlerts.values()].find(
      (a) => (a.relatedUser as { userName?: string } | null)?.userName === "user000042",
    )!;
    const added: WireObject = {
      ...template,
      id: "da-delta-new",
      severity: "High",
      status: "New",
      alertCreationTime: now,
      lastUpdateTime: now,
    };
    s.sim.defenderAlerts.set("da-delta-new", added);
    s.sim.reset();

    // Past its freshness (1 s): the next read is a delta.
    await new Promise((r) => setTimeout(r, 1_100));
    const after = await ask(since);
    const calls = s.sim.requests.filter((r) => r.kind === "api" && r.source === "DEFENDER").map((r) => decodeURIComponent(r.path));
    expect(calls).toHaveLength(1);
    const from = /^\/api\/alerts\?\$filter=lastUpdateTime ge ([^&]+)&\$top=10000&\$expand=evidence$/.exec(calls[0]!);
    expect(from).not.toBeNull();
    // From the last read, less the overlap for clock skew (5 minutes), to the second: not the window's start 7 days back.
    expect(Date.parse(from![1]!)).toBeGreaterThan(coldListedAt - 5 * 60_000 - 1_000);
    expect(Date.parse(from![1]!)).toBeLessThanOrEqual(coldListedAt - 5 * 60_000);
    // The merged window answers as the simulator's alerts now say (ranking, counts), with a later listedAt.
    const want = expectedRanking(s.sim, since, "LOW");
    expect(after.defenderUsersAtRisk.edges.map((e) => e.node)).toEqual(want);
    expect(after.defenderUsersAtRisk.totalCount).toBe(want.length);
    expect(after.defenderUsersAtRisk.complete).toBe(true);
    expect(after.defenderAlerts.totalCount).toBe(openSince(s.sim, since));
    expect(after.defenderAlerts.totalCount).toBe(cold.defenderAlerts.totalCount - resolved + 1);
    expect(Date.parse(after.defenderUsersAtRisk.listedAt)).toBeGreaterThan(coldListedAt);
    expect(s.logs.entries("graphql request").at(-1)!.plan).toContain("alerts: window refreshed by delta, 1 call for users at risk");

    // Fresh again: no call.
    s.sim.reset();
    expect(await ask(since)).toEqual(after);
    expect(defenderCalls(s.sim)).toBe(0);
  });

  it("lists the window whole when the delta is off (ALERT_DELTA_SECONDS=0) and the listing expired", async () => {
    const off = await startStack({ CACHE_TTL_SECONDS: "1", ALERT_DELTA_SECONDS: "0" }, SIM);
    try {
      const since = daysAgo(7);
      await off.post(JSON.stringify({ query: RISK, variables: { since } }));
      off.sim.reset();
      await new Promise((r) => setTimeout(r, 1_100));
      await off.post(JSON.stringify({ query: RISK, variables: { since } }));
      const window = Date.parse(since) - (Date.parse(since) % 3_600_000);
      expect(off.sim.requests.filter((r) => r.kind === "api").map((r) => decodeURIComponent(r.path))).toEqual([
        `/api/alerts?$filter=lastUpdateTime ge ${new Date(window).toISOString().replace(".000Z", "Z")}&$top=10000&$expand=evidence`,
      ]);
    } finally {
      await off.close();
    }
  });
});

describe("the listing budget (LISTINGS_MAX_MB)", () => {
  it("keeps no listing larger than the budget: each request lists the fleet again, and its plan says why", async () => {
    const small = await startStack({ CACHE_TTL_SECONDS: "60", LISTINGS_MAX_MB: "1" }, { extraDefenderMachines: 3_000 });
    try {
      const q = JSON.stringify({ query: "{ defenderMachines(first: 1) { totalCount complete } }" });
      for (let i = 0; i < 2; i++) {
        small.sim.reset();
        const res = await small.post(q);
        expect(res.body.errors).toBeUndefined();
        expect((res.body.data as { defenderMachines: { totalCount: number } }).defenderMachines.totalCount).toBe(
          small.sim.defenderMachines.size,
        );
        expect(defenderCalls(small.sim)).toBe(1);
        expect(small.logs.entries("graphql request").at(-1)!.plan).toEqual([
          "machines: fleet list, 1 call for defenderMachines (not kept: larger than LISTINGS_MAX_MB)",
        ]);
      }
    } finally {
      await small.close();
    }
  });

  it("keeps the same fleet within the default budget: warm, no call", async () => {
    const roomy = await startStack({ CACHE_TTL_SECONDS: "60" }, { extraDefenderMachines: 3_000 });
    try {
      const q = JSON.stringify({ query: "{ defenderMachines(first: 1) { totalCount } }" });
      await roomy.post(q);
      roomy.sim.reset();
      await roomy.post(q);
      expect(defenderCalls(roomy.sim)).toBe(0);
    } finally {
      await roomy.close();
    }
  });

  it("drops the least recently used listing first when a new one would not fit", () => {
    const budget = new ListingBudget(1_000);
    budget.set("a", { value: "a", freshUntil: Infinity, bytes: 400 }, 60_000);
    budget.set("b", { value: "b", freshUntil: Infinity, bytes: 400 }, 60_000);
    budget.get("a");
    budget.set("c", { value: "c", freshUntil: Infinity, bytes: 400 }, 60_000);
    expect([budget.get("a")?.value, budget.get("b"), budget.get("c")?.value]).toEqual(["a", undefined, "c"]);
    expect(budget.bytes).toBe(800);
    expect(budget.set("huge", { value: "x", freshUntil: Infinity, bytes: 1_001 }, 60_000)).toBe(false);
    expect(budget.get("huge")).toBeUndefined();
  });
});
