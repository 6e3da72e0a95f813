import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SIMULATOR_CREDENTIALS, startSimulator, type Simulator } from "../../src/simulator/simulator";
import { uniquePrefix } from "../helpers/replicas";
import { codes, startGatewayOn, type GatewayClient, type GraphQLResponse } from "../helpers/stack";

/**
 * Per-tenant vendor quotas across replicas: two replicas sharing Redis, two tenants each on its own
 * simulator, and a Defender quota of 3 calls a minute per tenant. What tenant A spends on one replica, A's
 * callers cannot spend on the other; tenant B keeps its whole quota on both. The window is a minute and the
 * request deadline 20 s, so a call past the quota is refused at once (RATE_LIMITED), whatever the load.
 */
const KEY_A = "quota-a-api-key-0123456789";
const KEY_B = "quota-b-api-key-0123456789";

let simA: Simulator;
let simB: Simulator;
let one: GatewayClient;
let two: GatewayClient;

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
  };
}

beforeAll(async () => {
  [simA, simB] = await Promise.all([startSimulator(), startSimulator()]);
  const file = join(mkdtempSync(join(tmpdir(), "usergraph-tenant-quota-")), "tenants.json");
  writeFileSync(file, JSON.stringify({ tenants: [tenantEntry("a", simA), tenantEntry("b", simB)] }));
  const env = {
    TENANTS_FILE: file,
    SIM_SECRET: SIMULATOR_CREDENTIALS.clientSecret,
    AUTH_MODE: "",
    AUTH_API_KEYS: `${KEY_A}@a,${KEY_B}@b`,
    DEFENDER_RATE_LIMITS: "3/60s",
    REQUEST_DEADLINE_MS: "20000",
    REDIS_URL: "redis://127.0.0.1:6379",
    REDIS_KEY_PREFIX: uniquePrefix(),
  };
  [one, two] = await Promise.all([startGatewayOn(simA, env, () => ({})), startGatewayOn(simA, env, () => ({}))]);
});
afterAll(async () => {
  await Promise.all([one?.close(), two?.close()]);
  await Promise.all([simA?.close(), simB?.close()]);
});

const USERS = "query ($ids: [ID!]!) { defenderUsers(ids: $ids) { id } }";
function ask(replica: GatewayClient, key: string, ids: string[]): Promise<GraphQLResponse<Record<string, any>>> {
  return replica.post(JSON.stringify({ query: USERS, variables: { ids } }), { "x-api-key": key }) as Promise<
    GraphQLResponse<Record<string, any>>
  >;
}
const defenderCalls = (sim: Simulator) => sim.count({ source: "DEFENDER", kind: "api" });
/** Ids no simulator knows: each costs one Defender call (a 404), none is remembered (the cache is off). */
const ids = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `nosuch\\${tag}${i}`);

describe("per-tenant quotas across replicas sharing Redis", () => {
  it("A's quota spent on one replica is spent on the other; B keeps its whole quota on both", async () => {
    // A spends its 3 calls of the minute on replica one.
    const spent = await ask(one, KEY_A, ids("a", 3));
    expect(spent.body.errors).toBeUndefined();
    expect(defenderCalls(simA)).toBe(3);

    // A on replica two: the shared window is full for a minute, past the deadline, so refused at once, no call.
    const refused = await ask(two, KEY_A, ids("b", 1));
    expect(codes(refused)).toEqual(["RATE_LIMITED"]);
    expect(refused.body.errors![0]!.extensions!.retryAfter).toEqual(expect.any(Number));
    // And on replica one too.
    expect(codes(await ask(one, KEY_A, ids("c", 1)))).toEqual(["RATE_LIMITED"]);
    expect(defenderCalls(simA)).toBe(3);

    // B has its whole quota: 2 calls on replica two and 1 on replica one all answered, at B's vendor only.
    const b2 = await ask(two, KEY_B, ids("d", 2));
    expect(b2.body.errors).toBeUndefined();
    expect(b2.body.data!.defenderUsers).toEqual([null, null]);
    const b1 = await ask(one, KEY_B, ids("e", 1));
    expect(b1.body.errors).toBeUndefined();
    expect(defenderCalls(simB)).toBe(3);
    // B's quota is also one across the replicas: its fourth call is refused, on either replica.
    expect(codes(await ask(two, KEY_B, ids("f", 1)))).toEqual(["RATE_LIMITED"]);
    expect(codes(await ask(one, KEY_B, ids("g", 1)))).toEqual(["RATE_LIMITED"]);
    expect(defenderCalls(simB)).toBe(3);
    expect(defenderCalls(simA)).toBe(3);

    // One tenant's exhausted quota never makes a replica unready.
    for (const replica of [one, two]) expect((await fetch(replica.gateway.url.replace("/graphql", "/health/ready"))).status).toBe(200);
  });
});
