import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SIMULATOR_CREDENTIALS, startSimulator, type Simulator } from "../../src/simulator/simulator";
import { uniquePrefix } from "../helpers/replicas";
import { codes, startGatewayOn, type GatewayClient, type GraphQLResponse } from "../helpers/stack";

/**
 * Tenants from the outside: two customers, each served by its own simulator, behind one usergraph. A caller
 * of tenant A asks, every way there is, for what tenant B holds, and gets nothing, with 0 calls at B's
 * simulator. docs/tenants.md lists these tests as the isolation guarantees.
 */
const KEY_A = "tenant-a-api-key-0123456789";
const KEY_B = "tenant-b-api-key-0123456789";
const KEY_AB = "tenant-ab-api-key-0123456789";
const KEY_NONE = "no-tenant-api-key-0123456789";
const KEY_C = "tenant-c-api-key-0123456789";
/** In B's simulator only (generated users), so a root field of A for it can only be answered by B. */
const B_ONLY = "bench\\user000001";

let simA: Simulator;
let simB: Simulator;
let gw: GatewayClient;
/** The gateway's variables (TENANTS_FILE and the secrets it names), for the replicas below. */
let tenantEnv: Record<string, string>;

function tenantEntry(id: string, sim: Simulator, secretEnv: string) {
  return {
    id,
    name: `Customer ${id.toUpperCase()}`,
    defender: {
      tenantId: SIMULATOR_CREDENTIALS.tenantId,
      clientId: SIMULATOR_CREDENTIALS.clientId,
      clientSecretEnv: secretEnv,
      apiUrl: sim.url,
      tokenUrl: sim.defenderTokenUrl,
    },
    eset: { usernameEnv: "SIM_ESET_USER", passwordEnv: "SIM_ESET_PASSWORD", apiUrl: sim.url, tokenUrl: sim.esetTokenUrl },
  };
}

beforeAll(async () => {
  [simA, simB] = await Promise.all([
    startSimulator(),
    startSimulator({ extraDefenderUsers: 3, extraEsetUsers: 5, extraDefenderMachines: 2, extraDefenderAlerts: 2 }),
  ]);
  const file = join(mkdtempSync(join(tmpdir(), "usergraph-tenants-")), "tenants.json");
  // A and B use the same credentials on purpose: their cache entries and cursors are kept apart by the tenant
  // (and here also by their URLs: two simulators cannot share one).
  // C's secret is wrong: its vendor refuses it. No caller ever asks for D.
  writeFileSync(
    file,
    JSON.stringify({
      tenants: [
        tenantEntry("a", simA, "SECRET_A"),
        tenantEntry("b", simB, "SECRET_B"),
        tenantEntry("c", simA, "SECRET_C"),
        tenantEntry("d", simB, "SECRET_B"),
      ],
    }),
  );
  tenantEnv = {
    TENANTS_FILE: file,
    SECRET_A: SIMULATOR_CREDENTIALS.clientSecret,
    SECRET_B: SIMULATOR_CREDENTIALS.clientSecret,
    SECRET_C: "not-the-secret",
    SIM_ESET_USER: SIMULATOR_CREDENTIALS.esetUsername,
    SIM_ESET_PASSWORD: SIMULATOR_CREDENTIALS.esetPassword,
    AUTH_MODE: "",
    AUTH_API_KEYS: `${KEY_A}@a,${KEY_B}@b,${KEY_AB}@a+b,${KEY_NONE},${KEY_C}@c`,
    CACHE_TTL_SECONDS: "60",
  };
  gw = await startGatewayOn(simA, tenantEnv, () => ({}));
});
afterAll(async () => {
  await gw?.close();
  await Promise.all([simA?.close(), simB?.close()]);
});
beforeEach(() => {
  simA.reset();
  simB.reset();
});

function ask(key: string, query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse<Record<string, any>>> {
  return gw.post(JSON.stringify({ query, variables }), { "x-api-key": key }) as Promise<GraphQLResponse<Record<string, any>>>;
}

const USER = "query ($id: ID!) { defenderUser(id: $id) { id accountName } }";

describe("tenants", () => {
  it("starts no tenant before its first request: no login for idle tenants, readiness included", async () => {
    const ready = await fetch(gw.gateway.url.replace("/graphql", "/health/ready"));
    expect(ready.status).toBe(200);
    expect(simA.requests.length + simB.requests.length).toBe(0);
    expect(gw.gateway.clients.tenants.started().map((t) => t.id)).not.toContain("d");
  });

  it("answers a caller of one tenant from its tenant's vendor only", async () => {
    // An id no other test asks, so no cache entry of another test answers it.
    const res = await ask(KEY_B, USER, { id: "bench\\user000002" });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.defenderUser.id).toBe("bench\\user000002");
    expect(simB.count({ kind: "api" })).toBeGreaterThan(0);
    expect(simA.requests.length).toBe(0);
  });

  it("a caller of A asking a root field for what B holds gets nothing, with 0 calls at B", async () => {
    const res = await ask(KEY_A, USER, { id: B_ONLY });
    expect(res.body.data!.defenderUser).toBeNull();
    expect(simA.count({ kind: "api" })).toBeGreaterThan(0);
    expect(simB.requests.length).toBe(0);
  });

  it("never serves A from the cache B's caller warmed (same credentials, same id)", async () => {
    // In both simulators, and asked by no other test here (the cache keeps entries for a minute).
    const id = "fabrikam\\cjones";
    await ask(KEY_B, USER, { id });
    await ask(KEY_B, USER, { id });
    expect(simB.count({ kind: "api" })).toBe(1);
    simB.reset();
    const res = await ask(KEY_A, USER, { id });
    expect(res.body.data!.defenderUser.id).toBe(id);
    // A's own vendor was asked: B's entry was not served to A.
    expect(simA.count({ kind: "api" })).toBe(1);
    expect(simB.requests.length).toBe(0);
  });

  it("refuses in A a list cursor minted in B, with 0 calls at B", async () => {
    const list = "query ($after: String) { esetUserList(first: 2, after: $after) { pageInfo { endCursor } edges { node { uuid } } } }";
    const minted = await ask(KEY_B, list);
    const cursor = minted.body.data!.esetUserList.pageInfo.endCursor as string;
    expect(typeof cursor).toBe("string");
    simB.reset();
    const res = await ask(KEY_A, list, { after: cursor });
    expect(res.body.data?.esetUserList ?? null).toBeNull();
    expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
    expect(simB.requests.length).toBe(0);
    // The same cursor still works in B.
    expect((await ask(KEY_B, list, { after: cursor })).body.errors).toBeUndefined();
  });

  it("root fields answer TENANT_REQUIRED for a caller of several tenants and FORBIDDEN for one of none, asking no vendor", async () => {
    const several = await ask(KEY_AB, USER, { id: "contoso\\alice" });
    expect(several.body.data!.defenderUser).toBeNull();
    expect(codes(several)).toEqual(["TENANT_REQUIRED"]);
    const none = await ask(KEY_NONE, USER, { id: "contoso\\alice" });
    expect(none.body.data!.defenderUser).toBeNull();
    expect(codes(none)).toEqual(["FORBIDDEN"]);
    expect(simA.requests.length + simB.requests.length).toBe(0);
  });

  it("one tenant's wrong secret: its callers are told, the others answer, and readiness stays 200", async () => {
    const refused = await ask(KEY_C, USER, { id: "contoso\\alice" });
    expect(refused.body.data!.defenderUser).toBeNull();
    expect(codes(refused)).toEqual(["UPSTREAM_UNAUTHENTICATED"]);
    expect(refused.text).not.toContain("not-the-secret");
    const other = await ask(KEY_B, USER, { id: B_ONLY });
    expect(other.body.data!.defenderUser.id).toBe(B_ONLY);
    const ready = await fetch(gw.gateway.url.replace("/graphql", "/health/ready"));
    expect(ready.status).toBe(200);
    // Per tenant detail, from what the tenants' tokens and circuits already know; D was never asked.
    const body = (await ready.json()) as { tenants: Record<string, { degraded: string[]; sources: Record<string, { token: string }> }> };
    expect(body.tenants.c!.degraded).toContain("DEFENDER");
    expect(body.tenants.c!.sources.DEFENDER!.token).toMatch(/^failed: http 401/);
    expect(body.tenants.b!.degraded).toEqual([]);
    expect(body.tenants.b!.sources.DEFENDER!.token).toBe("ok");
    expect(body.tenants.d).toBeUndefined();
    // Each tenant's upstream and token lines name it.
    const calls = gw.logs.entries("upstream call");
    expect(calls.some((l) => l.tenant === "b")).toBe(true);
    expect(calls.every((l) => typeof l.tenant === "string")).toBe(true);
    expect(gw.logs.entries().some((l) => l.tenant === "c" && String(l.msg).includes("token request failed"))).toBe(true);
    expect(gw.logs.text()).not.toContain("not-the-secret");
  });

  it("tenant(id:) answers every root field under one tenant, and one query spans tenants with aliases", async () => {
    const res = await ask(
      KEY_AB,
      `query ($id: ID!, $alice: ID!) {
        a: tenant(id: "a") { id name defenderUser(id: $id) { id } }
        b: tenant(id: "b") { id name defenderUser(id: $id) { id } alice: defenderUser(id: $alice) { id machines { id } } }
      }`,
      { id: B_ONLY, alice: "contoso\\alice" },
    );
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.a).toEqual({ id: "a", name: "Customer A", defenderUser: null });
    expect(res.body.data!.b.defenderUser.id).toBe(B_ONLY);
    // A field below a tenant's root field (machines) reads that tenant's loaders too.
    expect(Array.isArray(res.body.data!.b.alice.machines)).toBe(true);
    expect(simB.count({ endpoint: "users.machines" }) + simB.count({ endpoint: "machines.logonusers" })).toBeGreaterThan(0);
    expect(simA.count({ endpoint: "users.machines" })).toBe(0);
  });

  it("tenants lists what the caller may see, each with the root fields", async () => {
    const res = await ask(KEY_AB, "query ($id: ID!) { tenants { id name defenderUser(id: $id) { id } } }", { id: B_ONLY });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.tenants).toEqual([
      { id: "a", name: "Customer A", defenderUser: null },
      { id: "b", name: "Customer B", defenderUser: { id: B_ONLY } },
    ]);
    expect((await ask(KEY_A, "{ tenants { id } }")).body.data!.tenants).toEqual([{ id: "a" }]);
    expect((await ask(KEY_NONE, "{ tenants { id } }")).body.data!.tenants).toEqual([]);
  });

  it("tenant(id:) of a tenant the caller may not see is FORBIDDEN, word for word as one that does not exist, 0 calls at B", async () => {
    const query = "query ($t: ID!, $id: ID!) { tenant(id: $t) { defenderUser(id: $id) { id } } }";
    const other = await ask(KEY_A, query, { t: "b", id: "contoso\\alice" });
    const missing = await ask(KEY_A, query, { t: "nope", id: "contoso\\alice" });
    expect(other.body.data!.tenant).toBeNull();
    expect(codes(other)).toEqual(["FORBIDDEN"]);
    expect(other.text).toBe(missing.text);
    expect(simB.requests.length).toBe(0);
  });

  it("never joins A's lookup to B's in flight (single flight per tenant): each simulator answers its own", async () => {
    // Asked by no other test here, so neither tenant has it cached.
    const id = "corp\\dmiller";
    const [a, b] = await Promise.all([ask(KEY_A, USER, { id }), ask(KEY_B, USER, { id })]);
    expect(a.body.data!.defenderUser.id).toBe(id);
    expect(b.body.data!.defenderUser.id).toBe(id);
    expect(simA.count({ kind: "api", endpoint: "users.get" })).toBe(1);
    expect(simB.count({ kind: "api", endpoint: "users.get" })).toBe(1);
  });

  it("never serves A a listing B's caller kept (fleet, alert window, ESET's user list), 0 calls at B", async () => {
    // Listings are named alike in every tenant ("fleet"): once, B's fleet was A's answer.
    const since = new Date(Date.now() - 7 * 86_400_000).toISOString();
    const lists = `query ($since: DateTime!) {
      defenderMachines(first: 1, orderBy: { field: RISK_SCORE }) { totalCount }
      defenderAlerts(first: 1, filter: { createdSince: $since }) { totalCount }
      esetUserList(first: 1) { totalCount }
    }`;
    const b = await ask(KEY_B, lists, { since });
    expect(b.body.errors).toBeUndefined();
    expect(b.body.data!.defenderMachines.totalCount).toBe(simB.defenderMachines.size);
    simB.reset();
    const a = await ask(KEY_A, lists, { since });
    expect(a.body.errors).toBeUndefined();
    // B holds two machines, an alert or two this week and five ESET users more than A.
    expect(a.body.data!.defenderMachines.totalCount).toBe(simA.defenderMachines.size);
    expect(a.body.data!.defenderMachines.totalCount).toBeLessThan(b.body.data!.defenderMachines.totalCount);
    expect(a.body.data!.defenderAlerts.totalCount).toBeLessThan(b.body.data!.defenderAlerts.totalCount);
    expect(a.body.data!.esetUserList.totalCount).toBe(simA.esetUsers.size);
    expect(simB.requests.length).toBe(0);
  });

  it("refuses under tenant(id:) a cursor minted in another tenant, with 0 calls at that tenant", async () => {
    const list = "query ($t: ID!, $after: String) { tenant(id: $t) { esetUserList(first: 2, after: $after) { pageInfo { endCursor } } } }";
    const minted = await ask(KEY_AB, list, { t: "b" });
    const cursor = minted.body.data!.tenant.esetUserList.pageInfo.endCursor as string;
    simB.reset();
    const res = await ask(KEY_AB, list, { t: "a", after: cursor });
    expect(res.body.data!.tenant.esetUserList).toBeNull();
    expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
    expect(simB.requests.length).toBe(0);
  });
});

describe("tenants on two replicas sharing Redis", () => {
  let one: GatewayClient;
  let two: GatewayClient;
  beforeAll(async () => {
    const env = { ...tenantEnv, REDIS_URL: "redis://127.0.0.1:6379", REDIS_KEY_PREFIX: uniquePrefix() };
    [one, two] = await Promise.all([startGatewayOn(simA, env, () => ({})), startGatewayOn(simA, env, () => ({}))]);
  });
  afterAll(() => Promise.all([one?.close(), two?.close()]));

  const askOn = (replica: GatewayClient, key: string, id: string) =>
    replica.post(JSON.stringify({ query: USER, variables: { id } }), { "x-api-key": key }) as Promise<GraphQLResponse<Record<string, any>>>;

  it("shares B's entries with B's callers on the other replica, never with A's", async () => {
    // Asked by no other test (the cache keeps entries for a minute).
    const id = "bench\\user000000";
    expect((await askOn(one, KEY_B, id)).body.data!.defenderUser.id).toBe(id);
    expect(simB.count({ kind: "api", endpoint: "users.get" })).toBe(1);
    // B on the other replica: from Redis, no call at B.
    expect((await askOn(two, KEY_B, id)).body.data!.defenderUser.id).toBe(id);
    expect(simB.count({ kind: "api", endpoint: "users.get" })).toBe(1);
    // A on the other replica: not B's entry; A's own vendor is asked (and has no such user).
    simB.reset();
    expect((await askOn(two, KEY_A, id)).body.data!.defenderUser).toBeNull();
    expect(simA.count({ kind: "api", endpoint: "users.get" })).toBe(1);
    expect(simB.requests.length).toBe(0);
  });
});
