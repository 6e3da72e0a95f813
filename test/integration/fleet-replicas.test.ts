import { startSimulator, type Simulator } from "../../src/simulator/simulator";
import { gql, startReplica, uniquePrefix, type Replica } from "../helpers/replicas";

/**
 * The fleet views' listings shared across replicas through Redis (store/shared-listings.ts): two real
 * usergraph processes on one simulator and one Redis, counted at the simulator. One replica lists (the
 * fleet, the alert window, ESET's user list); the other reads them from Redis and makes no listing call,
 * whether it asks after the first or at the same time.
 */

const SHARED_REDIS = "redis://127.0.0.1:6379";
const SIM = { extraDefenderUsers: 60, extraDefenderMachines: 60, extraDefenderAlerts: 200, extraEsetUsers: 50 };

let sim: Simulator | undefined;
let replicas: Replica[] = [];

afterEach(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  replicas = [];
  await sim?.close();
  sim = undefined;
});

async function two(env: Record<string, string> = {}): Promise<[Replica, Replica]> {
  const prefix = uniquePrefix();
  const started = await Promise.all(
    [0, 1].map(() => startReplica(sim!, { CACHE_TTL_SECONDS: "60", REDIS_URL: SHARED_REDIS, REDIS_KEY_PREFIX: prefix, ...env })),
  );
  replicas.push(...started);
  return started as [Replica, Replica];
}

const DASHBOARD = `query($since: DateTime!) {
  peopleAtRisk(since: $since, first: 5) { totalCount complete listedAt edges { node { defender { id openAlertCount } weakestProtection } } }
  defenderAlerts(filter: { createdSince: $since, statuses: [NEW, IN_PROGRESS] }, first: 0) { totalCount facets { severity { value count } } }
  defenderMachines(filter: { riskScore: [HIGH] }, first: 3) { totalCount complete listedAt edges { node { id } } }
}`;
const since = () => new Date(Date.now() - 7 * 86_400_000).toISOString();
const listings = () => ({
  machines: sim!.count({ source: "DEFENDER", kind: "api", endpoint: "machines.list" }),
  alerts: sim!.count({ source: "DEFENDER", kind: "api", endpoint: "alerts.list" }),
  eset: sim!.count({ source: "ESET", kind: "api" }),
  defender: sim!.count({ source: "DEFENDER", kind: "api" }),
});

describe("fleet views on two replicas sharing Redis", () => {
  it("the second replica reads the first's listings from Redis: 0 listing calls, the same answer and the same listedAt", async () => {
    sim = await startSimulator(SIM);
    const [a, b] = await two();
    const variables = { since: since() };
    const first = await gql(a.url, DASHBOARD, variables);
    expect(first.errors).toBeUndefined();
    const cold = listings();
    expect(cold).toEqual({ machines: 1, alerts: 1, eset: 1, defender: 2 });
    sim.reset();
    const second = await gql(b.url, DASHBOARD, variables);
    expect(second.errors).toBeUndefined();
    expect(second.data).toEqual(first.data);
    expect(listings()).toEqual({ machines: 0, alerts: 0, eset: 0, defender: 0 });
    await b.waitForOutput(/fleet list from Redis \(listed by another replica\)/);
    await b.waitForOutput(/window from Redis \(listed by another replica\)/);
    await b.waitForOutput(/eset users: user list from Redis/);
  });

  it("asked at the same time, one replica lists and the other waits for its listing (one listing of each)", async () => {
    // Slow enough at the vendor that both replicas ask while the first listing is under way.
    sim = await startSimulator({ ...SIM, latencyMs: 800 });
    const [a, b] = await two();
    const variables = { since: since() };
    const [x, y] = await Promise.all([gql(a.url, DASHBOARD, variables), gql(b.url, DASHBOARD, variables)]);
    expect(x.errors).toBeUndefined();
    expect(y.errors).toBeUndefined();
    expect(y.data).toEqual(x.data);
    expect(listings()).toEqual({ machines: 1, alerts: 1, eset: 1, defender: 2 });
  });

  it("a replica that dies while it lists frees its claim within its 2 s lease: the other lists for itself and answers", async () => {
    sim = await startSimulator({ ...SIM, latencyMs: 2_000 });
    const [a, b] = await two();
    const variables = { since: since() };
    void gql(a.url, DASHBOARD, variables).catch(() => undefined);
    // A has claimed the listings and is reading them: it dies (SIGKILL: no release, no renewal).
    for (let i = 0; i < 400 && sim.count({ endpoint: "machines.list" }) === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(sim.count({ endpoint: "machines.list" })).toBe(1);
    a.child.kill("SIGKILL");
    await new Promise((r) => a.child.once("exit", r));
    const before = listings();
    const answer = await gql(b.url, DASHBOARD, variables);
    expect(answer.errors).toBeUndefined();
    // B listed the fleet and the window for itself once A's claims lapsed: one listing call each.
    const after = listings();
    expect([after.machines - before.machines, after.alerts - before.alerts]).toEqual([1, 1]);
  });

  it("without Redis each replica lists for itself (what sharing saves)", async () => {
    sim = await startSimulator(SIM);
    const started = await Promise.all([0, 1].map(() => startReplica(sim!, { CACHE_TTL_SECONDS: "60" })));
    replicas.push(...started);
    const variables = { since: since() };
    for (const r of started) expect((await gql(r.url, DASHBOARD, variables)).errors).toBeUndefined();
    expect(listings()).toEqual({ machines: 2, alerts: 2, eset: 2, defender: 4 });
  });
});
