import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SIMULATOR_CREDENTIALS, startSimulator, type Simulator } from "../../src/simulator/simulator";
import { expectedRanking } from "../helpers/risk-ranking";
import { codes, startGatewayOn, startStack, type GatewayClient, type GraphQLResponse } from "../helpers/stack";

/**
 * The fleet views per tenant and across tenants, and what an operation over several tenants costs each of
 * them: two customers on two simulators with different fleets (B has bench users and ESET users A has not),
 * behind one usergraph. Each tenant's list must come from its own vendor's listing, within its own quota,
 * with nothing of the other tenant in it.
 */
const KEY_A = "fleet-a-api-key-0123456789";
const KEY_AB = "fleet-ab-api-key-0123456789";
const KEY_C = "fleet-c-api-key-0123456789";
const DAY = 86_400_000;
const daysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString();

/** A: 10 bench users and 6 generated ESET users; B: 30 and 20, so B's bench users 10–29 and ESET users 6–19 are B's alone. */
const A_FLEET = { extraDefenderUsers: 10, extraDefenderMachines: 10, extraDefenderAlerts: 60, extraEsetUsers: 6 };
const B_FLEET = { extraDefenderUsers: 30, extraDefenderMachines: 30, extraDefenderAlerts: 180, extraEsetUsers: 20 };

let simA: Simulator;
let simB: Simulator;
let tenantEnv: Record<string, string>;
const gateways: GatewayClient[] = [];

function tenantEntry(id: string, sim: Simulator) {
  return {
    id,
    name: `Customer ${id.toUpperCase()}`,
    defender: {
      tenantId: SIMULATOR_CREDENTIALS.tenantId,
      clientId: SIMULATOR_CREDENTIALS.clientId,
      clientSecretEnv: "SIM_SECRET",
      apiUrl: sim.url,
      tokenUrl: sim.defenderTokenUrl,
    },
    eset: { usernameEnv: "SIM_ESET_USER", passwordEnv: "SIM_ESET_PASSWORD", apiUrl: sim.url, tokenUrl: sim.esetTokenUrl },
  };
}

beforeAll(async () => {
  [simA, simB] = await Promise.all([startSimulator(A_FLEET), startSimulator(B_FLEET)]);
  const file = join(mkdtempSync(join(tmpdir(), "usergraph-tenants-fleet-")), "tenants.json");
  // C is configured and never asked: `tenants { … }` is priced for every configured tenant.
  writeFileSync(file, JSON.stringify({ tenants: [tenantEntry("a", simA), tenantEntry("b", simB), tenantEntry("c", simA)] }));
  tenantEnv = {
    TENANTS_FILE: file,
    SIM_SECRET: SIMULATOR_CREDENTIALS.clientSecret,
    SIM_ESET_USER: SIMULATOR_CREDENTIALS.esetUsername,
    SIM_ESET_PASSWORD: SIMULATOR_CREDENTIALS.esetPassword,
    AUTH_MODE: "",
    AUTH_API_KEYS: `${KEY_A}@a,${KEY_AB}@a+b,${KEY_C}@c`,
    CACHE_TTL_SECONDS: "60",
  };
});
afterAll(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
  await Promise.all([simA?.close(), simB?.close()]);
});
beforeEach(() => {
  simA.reset();
  simB.reset();
});

/**
 * A gateway of its own (fresh quotas and listings). `quota`: each tenant may make one Defender call and one
 * ESET call a minute, so a view over two tenants answers only if each tenant spends its own quota.
 */
async function gateway(quota: boolean, env: Record<string, string> = {}): Promise<GatewayClient> {
  const gw = await startGatewayOn(
    simA,
    { ...tenantEnv, ...(quota ? { DEFENDER_RATE_LIMITS: "1/60s", ESET_RATE_LIMITS: "1/60s" } : {}), ...env },
    () => ({}),
  );
  gateways.push(gw);
  return gw;
}

function ask(gw: GatewayClient, key: string, query: string, variables: Record<string, unknown> = {}) {
  return gw.post(JSON.stringify({ query, variables }), { "x-api-key": key }) as Promise<GraphQLResponse<Record<string, any>>>;
}

const calls = (sim: Simulator, source: "DEFENDER" | "ESET") => sim.count({ source, kind: "api" });
/** The bench users and generated ESET users only B's simulator has. */
const B_ONLY_USERS = Array.from({ length: 20 }, (_, i) => `bench\\user${String(i + 10).padStart(6, "0")}`);
const B_ONLY_ESET = Array.from({ length: 14 }, (_, i) => `00000000-0000-4000-8000-000000${String(i + 6).padStart(6, "0")}`);

interface PersonNode {
  defender: { id: string; alertCount: number };
  esetUsers: Array<{ uuid: string }>;
}
const PEOPLE =
  "peopleAtRisk(since: $since, first: 100) { totalCount complete edges { node { defender { id alertCount } esetUsers { uuid } } } }";

/** What a tenant's entry may hold: only its own simulator's accounts and ESET users, none of B's own. */
function expectOnlyOwn(nodes: PersonNode[], sim: Simulator, foreign: { users: string[]; eset: string[] }) {
  for (const n of nodes) {
    expect(foreign.users).not.toContain(n.defender.id);
    for (const u of n.esetUsers) {
      expect(sim.esetUsers.has(u.uuid)).toBe(true);
      expect(foreign.eset).not.toContain(u.uuid);
    }
  }
}

describe("fleet views across tenants", () => {
  it("tenants { peopleAtRisk }: each tenant's list from its own listings, one call to each vendor of each tenant, nothing of B in A's", async () => {
    const gw = await gateway(true);
    const since = daysAgo(7);
    const res = await ask(gw, KEY_AB, `query ($since: DateTime!) { tenants { id ${PEOPLE} } }`, { since });
    expect(res.body.errors).toBeUndefined();
    const [a, b] = res.body.data!.tenants as Array<{ id: string; peopleAtRisk: { complete: boolean; edges: Array<{ node: PersonNode }> } }>;
    expect([a!.id, b!.id]).toEqual(["a", "b"]);
    const idsOf = (t: typeof a) => t!.peopleAtRisk.edges.map((e) => e.node.defender.id);
    // Each tenant's ranking is its own simulator's, and the two differ (B's fleet is larger).
    expect(idsOf(a)).toEqual(expectedRanking(simA, since, "MEDIUM").map((r) => r.id));
    expect(idsOf(b)).toEqual(expectedRanking(simB, since, "MEDIUM").map((r) => r.id));
    expect(idsOf(b).length).toBeGreaterThan(idsOf(a).length);
    expect(idsOf(b).some((id) => B_ONLY_USERS.includes(id))).toBe(true);
    expect(b!.peopleAtRisk.edges.some((e) => e.node.esetUsers.some((u) => B_ONLY_ESET.includes(u.uuid)))).toBe(true);
    expectOnlyOwn(
      a!.peopleAtRisk.edges.map((e) => e.node),
      simA,
      { users: B_ONLY_USERS, eset: B_ONLY_ESET },
    );
    // One alert-window listing and one ESET user list per tenant, each at its own vendor: with one call a
    // minute per vendor, the second tenant could not have answered on a shared quota.
    expect([calls(simA, "DEFENDER"), calls(simA, "ESET")]).toEqual([1, 1]);
    expect([calls(simB, "DEFENDER"), calls(simB, "ESET")]).toEqual([1, 1]);
    expect(simA.count({ endpoint: "alerts.list" })).toBe(1);
    expect(simB.count({ endpoint: "alerts.list" })).toBe(1);

    // A caller of A alone: A's entry only, from A's kept listings (no call anywhere).
    simA.reset();
    simB.reset();
    const onlyA = await ask(gw, KEY_A, `query ($since: DateTime!) { tenants { id ${PEOPLE} } }`, { since });
    expect(onlyA.body.errors).toBeUndefined();
    expect(onlyA.body.data!.tenants).toEqual([a]);
    expect(simA.requests.length + simB.requests.length).toBe(0);
  });

  it("tenant(id:) with defenderUsersAtRisk and peopleAtRisk: each alias from its tenant's listings, the root field of A's caller from A's", async () => {
    const gw = await gateway(true);
    const since = daysAgo(5);
    const per = `defenderUsersAtRisk(since: $since, first: 100) { totalCount edges { node { id alertCount } } } ${PEOPLE}`;
    const res = await ask(gw, KEY_AB, `query ($since: DateTime!) { a: tenant(id: "a") { ${per} } b: tenant(id: "b") { ${per} } }`, {
      since,
    });
    expect(res.body.errors).toBeUndefined();
    const { a, b } = res.body.data as Record<string, any>;
    const riskIds = (t: any) => (t.defenderUsersAtRisk.edges as Array<{ node: { id: string } }>).map((e) => e.node.id);
    expect(riskIds(a)).toEqual(expectedRanking(simA, since, "LOW").map((r) => r.id));
    expect(riskIds(b)).toEqual(expectedRanking(simB, since, "LOW").map((r) => r.id));
    expect(riskIds(a).some((id) => B_ONLY_USERS.includes(id))).toBe(false);
    expect(riskIds(b).some((id) => B_ONLY_USERS.includes(id))).toBe(true);
    expect((a.peopleAtRisk.edges as Array<{ node: PersonNode }>).map((e) => e.node.defender.id)).toEqual(
      expectedRanking(simA, since, "MEDIUM").map((r) => r.id),
    );
    expectOnlyOwn(
      (a.peopleAtRisk.edges as Array<{ node: PersonNode }>).map((e) => e.node),
      simA,
      { users: B_ONLY_USERS, eset: B_ONLY_ESET },
    );
    // Both views of a tenant read its one alert window: one Defender and one ESET call per tenant.
    expect([calls(simA, "DEFENDER"), calls(simA, "ESET")]).toEqual([1, 1]);
    expect([calls(simB, "DEFENDER"), calls(simB, "ESET")]).toEqual([1, 1]);

    // The root field for a caller of A alone: A's kept window, no call; never B's.
    simA.reset();
    simB.reset();
    const root = await ask(
      gw,
      KEY_A,
      `query ($since: DateTime!) { defenderUsersAtRisk(since: $since, first: 100) { edges { node { id } } } }`,
      {
        since,
      },
    );
    expect(root.body.errors).toBeUndefined();
    expect((root.body.data!.defenderUsersAtRisk.edges as Array<{ node: { id: string } }>).map((e) => e.node.id)).toEqual(riskIds(a));
    expect(simA.requests.length + simB.requests.length).toBe(0);
  });
});

describe("the price of an operation over several tenants", () => {
  const ids = (tag: string) => Array.from({ length: 60 }, (_, i) => `nosuch${tag}\\u${i}`);
  const USERS = "query ($ids: [ID!]!) { tenants { id defenderUsers(ids: $ids) { id } } }";

  it("applies MAX_DEFENDER_COST to each tenant's share: 60 lookups in each of two tenants run, each tenant's calls at its own vendor", async () => {
    const gw = await gateway(false);
    // 60 per tenant (180 for the 3 configured, under MAX_COST): over MAX_DEFENDER_COST (100) only if tenants shared it.
    const res = await ask(gw, KEY_AB, USERS, { ids: ids("x") });
    expect(res.body.errors).toBeUndefined();
    const tenants = res.body.data!.tenants as Array<{ id: string; defenderUsers: unknown[] }>;
    expect(tenants.map((t) => [t.id, t.defenderUsers.length])).toEqual([
      ["a", 60],
      ["b", 60],
    ]);
    // Each tenant's 60 calls were counted against its own share at run time (one shared budget of 60 would
    // have refused the second tenant's).
    expect(simA.count({ endpoint: "users.get" })).toBe(60);
    expect(simB.count({ endpoint: "users.get" })).toBe(60);
  });

  it("adds up the aliases naming one tenant: 2 × 60 in A is refused before any call", async () => {
    const gw = await gateway(false);
    const res = await ask(
      gw,
      KEY_AB,
      "query ($x: [ID!]!, $y: [ID!]!, $t: ID!, $u: ID!) { x: tenant(id: $t) { defenderUsers(ids: $x) { id } } y: tenant(id: $u) { defenderUsers(ids: $y) { id } } }",
      { x: ids("p"), y: ids("q"), t: "a", u: "a" },
    );
    expect(res.status).toBe(400);
    expect(codes(res)).toEqual(["OPERATION_LIMIT_EXCEEDED"]);
    expect(res.body.errors![0]!.message).toContain('may make 120 Defender calls in tenant "a"');
    expect(simA.requests.length + simB.requests.length).toBe(0);
    // The same document naming two tenants is priced 60 in each and runs.
    const two = await ask(
      gw,
      KEY_AB,
      "query ($x: [ID!]!, $y: [ID!]!, $t: ID!, $u: ID!) { x: tenant(id: $t) { defenderUsers(ids: $x) { id } } y: tenant(id: $u) { defenderUsers(ids: $y) { id } } }",
      { x: ids("p"), y: ids("q"), t: "a", u: "b" },
    );
    expect(two.body.errors).toBeUndefined();
    expect(simA.count({ endpoint: "users.get" })).toBe(60);
    expect(simB.count({ endpoint: "users.get" })).toBe(60);
  });
});

describe("what a tenant keeps in process", () => {
  it("never resumes another tenant's pending ESET response-id (same regional API, same request)", async () => {
    // A and C share a simulator (one ESET URL, as every customer of a region does) and send the same request.
    const gw = await gateway(false, { REQUEST_DEADLINE_MS: "300", ESET_PENDING_POLL_MS: "40" });
    const query = '{ esetUsers(uuids: ["00000000-0000-4000-8000-000000000002"]) { uuid } }';
    // Tokens first (another uuid: entities are kept a minute), so the 300 ms below are spent polling, not logging in.
    const warm = '{ esetUsers(uuids: ["00000000-0000-4000-8000-000000000001"]) { uuid } }';
    expect((await ask(gw, KEY_A, warm)).body.errors).toBeUndefined();
    expect((await ask(gw, KEY_C, warm)).body.errors).toBeUndefined();
    simA.reset();
    simA.inject({ target: "eset", kind: "pending", polls: 50 });
    const a = await ask(gw, KEY_A, query);
    expect(codes(a)).toEqual(["UPSTREAM_PENDING"]);
    const heldByA = new Set(
      simA.requests
        .filter((r) => r.kind === "api")
        .map((r) => r.headers["response-id"])
        .filter(Boolean),
    );
    expect(heldByA.size).toBe(1);
    const before = simA.requests.length;
    await ask(gw, KEY_C, query);
    const ofC = simA.requests.slice(before).filter((r) => r.kind === "api");
    // C starts a query of its own: its first call carries no response-id, and none of its calls carries A's.
    expect(ofC[0]!.headers["response-id"]).toBeUndefined();
    for (const call of ofC) expect(heldByA.has(call.headers["response-id"] as string)).toBe(false);
  });
});

describe("tenant(id:) in a single-tenant deployment", () => {
  it('prices tenant(id: "default") as the root fields and lets its calls spend that price', async () => {
    const stack = await startStack();
    try {
      const query =
        'query ($ids: [ID!]!) { tenant(id: "default") { defenderUsers(ids: $ids) { id } } defenderUser(id: "nosuch\\\\root") { id } }';
      const res = await stack.post(JSON.stringify({ query, variables: { ids: ids3 } }));
      // Root fields and tenant(id: "default") are one tenant: its 4 calls are within its one budget of 4.
      expect(res.body.errors).toBeUndefined();
      expect(stack.sim.count({ endpoint: "users.get" })).toBe(4);
    } finally {
      await stack.close();
    }
  });
});
const ids3 = ["nosuch\\d1", "nosuch\\d2", "nosuch\\d3"];
