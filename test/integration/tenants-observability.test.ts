import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SIMULATOR_CREDENTIALS, startSimulator, type Simulator } from "../../src/simulator/simulator";
import { startGatewayOn, type GatewayClient, type GraphQLResponse } from "../helpers/stack";
import { SIM_ESET_ENV, tenantEntry } from "../helpers/tenants";

/**
 * Metrics and the request's log line with several tenants, from the outside: two customers on their own
 * simulators behind one usergraph, scraped at /metrics and read in its log. Every per-source series says
 * whose state it is (`tenant`, a configured id only), and each request's line names the tenants it touched.
 */
const KEY_A = "obs-tenant-a-key-0123456789";
const KEY_B = "obs-tenant-b-key-0123456789";
const KEY_AB = "obs-tenant-ab-key-0123456789";
const USER = "query ($id: ID!) { defenderUser(id: $id) { id } }";

let simA: Simulator;
let simB: Simulator;
let gw: GatewayClient;

beforeAll(async () => {
  [simA, simB] = await Promise.all([startSimulator(), startSimulator({ extraDefenderUsers: 3 })]);
  const file = join(mkdtempSync(join(tmpdir(), "usergraph-tenants-obs-")), "tenants.json");
  writeFileSync(file, JSON.stringify({ tenants: [tenantEntry("a", simA, "SECRET_A"), tenantEntry("b", simB, "SECRET_B")] }));
  gw = await startGatewayOn(
    simA,
    {
      TENANTS_FILE: file,
      SECRET_A: SIMULATOR_CREDENTIALS.clientSecret,
      SECRET_B: SIMULATOR_CREDENTIALS.clientSecret,
      ...SIM_ESET_ENV,
      AUTH_MODE: "",
      AUTH_API_KEYS: `${KEY_A}@a,${KEY_B}@b,${KEY_AB}@a+b`,
      // Two failed attempts open a circuit (and it stays open for the whole file).
      CIRCUIT_FAILURE_THRESHOLD: "2",
      CIRCUIT_OPEN_SECONDS: "600",
      UPSTREAM_MAX_RETRIES: "1",
    },
    () => ({}),
  );
});
afterAll(async () => {
  await gw?.close();
  await Promise.all([simA?.close(), simB?.close()]);
});
beforeEach(() => {
  simA.reset();
  simB.reset();
});

function ask(key: string, query: string, variables: Record<string, unknown> = {}, requestId?: string) {
  const headers: Record<string, string> = { "x-api-key": key };
  if (requestId) headers["x-request-id"] = requestId;
  return gw.post(JSON.stringify({ query, variables }), headers) as Promise<GraphQLResponse<Record<string, any>>>;
}

async function scrape(): Promise<string> {
  const res = await fetch(gw.gateway.url.replace("/graphql", "/metrics"));
  expect(res.status).toBe(200);
  return res.text();
}

/** The value of one sample line, or undefined when the series does not exist. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("metrics with several tenants", () => {
  it("keeps each tenant's circuit state apart: A's open circuit is not overwritten by B starting", async () => {
    // A's Defender answers 503 to two requests (both attempts of each): A's circuit opens.
    simA.inject({ target: "defender", kind: "status", status: 503, times: 4 });
    for (const id of ["contoso\\alice", "contoso\\bob"]) expect((await ask(KEY_A, USER, { id })).body.data!.defenderUser).toBeNull();
    // B starts after (its circuit is new and closed) and answers.
    const ok = await ask(KEY_B, USER, { id: "bench\\user000001" });
    expect(ok.body.data!.defenderUser.id).toBe("bench\\user000001");
    const text = await scrape();
    expect(sample(text, 'usergraph_circuit_state{source="DEFENDER",tenant="a"}')).toBe(2);
    expect(sample(text, 'usergraph_circuit_state{source="DEFENDER",tenant="b"}')).toBe(0);
    // Every started tenant's queue, each under its own name.
    expect(sample(text, 'usergraph_rate_limiter_queue_depth{source="DEFENDER",tenant="a"}')).toBe(0);
    expect(sample(text, 'usergraph_rate_limiter_queue_depth{source="DEFENDER",tenant="b"}')).toBe(0);
    // A's failed attempts are A's, B's answers B's.
    expect(sample(text, 'usergraph_upstream_calls_total{source="DEFENDER",phase="api",status="503",attempt="1",tenant="a"}')).toBe(2);
    expect(
      sample(text, 'usergraph_upstream_calls_total{source="DEFENDER",phase="api",status="503",attempt="1",tenant="b"}'),
    ).toBeUndefined();
    expect(sample(text, 'usergraph_token_refreshes_total{source="DEFENDER",tenant="b"}')).toBeGreaterThanOrEqual(1);
  });

  it("counts cache lookups and upstream calls under the tenant that made them", async () => {
    const before = await scrape();
    const id = "bench\\user000002";
    await ask(KEY_B, USER, { id });
    const after = await scrape();
    const calls = 'usergraph_upstream_calls_total{source="DEFENDER",phase="api",status="200",attempt="1",tenant="b"}';
    const misses = 'usergraph_cache_lookups_total{source="DEFENDER",result="miss",tenant="b"}';
    expect((sample(after, calls) ?? 0) - (sample(before, calls) ?? 0)).toBe(simB.count({ kind: "api" }));
    expect(simB.count({ kind: "api" })).toBe(1);
    expect((sample(after, misses) ?? 0) - (sample(before, misses) ?? 0)).toBe(1);
    expect(sample(after, 'usergraph_cache_lookups_total{source="DEFENDER",result="miss",tenant="a"}') ?? 0).toBe(
      sample(before, 'usergraph_cache_lookups_total{source="DEFENDER",result="miss",tenant="a"}') ?? 0,
    );
  });

  it("labels with configured tenant ids only, never one a caller spelled", async () => {
    // Both tenants started (whichever test ran first), so both have series.
    await ask(KEY_AB, '{ tenants { esetUsers(uuids: ["x"]) { uuid } } }');
    const res = await ask(KEY_AB, 'query ($id: ID!) { x: tenant(id: "made-up-tenant") { defenderUser(id: $id) { id } } }', { id: "x" });
    expect(res.body.data!.x).toBeNull();
    const text = await scrape();
    const tenants = new Set([...text.matchAll(/tenant="([^"]*)"/g)].map((m) => m[1]));
    expect([...tenants].sort()).toEqual(["a", "b"]);
  });
});

describe("the request's log line with several tenants", () => {
  /** The one `graphql request` line of the request with this id. */
  function requestLine(requestId: string): Record<string, unknown> {
    const lines = gw.logs.entries("graphql request").filter((l) => l.requestId === requestId);
    expect(lines).toHaveLength(1);
    return lines[0]!;
  }

  it("names the caller's one tenant for root fields", async () => {
    await ask(KEY_B, USER, { id: "bench\\user000001" }, "log-root-b");
    expect(requestLine("log-root-b").tenants).toEqual(["b"]);
  });

  it("names each tenant a tenant(id:) or tenants field opened", async () => {
    await ask(KEY_AB, '{ x: tenant(id: "b") { id } y: tenant(id: "a") { id } }', {}, "log-two");
    expect((requestLine("log-two").tenants as string[]).sort()).toEqual(["a", "b"]);
    await ask(KEY_AB, "{ tenants { id } }", {}, "log-list");
    expect((requestLine("log-list").tenants as string[]).sort()).toEqual(["a", "b"]);
  });

  it("never logs as a tenant an id the caller may not see or that does not exist", async () => {
    const res = await ask(
      KEY_A,
      '{ mine: tenant(id: "a") { id } theirs: tenant(id: "b") { id } unknown: tenant(id: "spelled-by-caller") { id } }',
      {},
      "log-forbidden",
    );
    expect(res.body.data).toEqual({ mine: { id: "a" }, theirs: null, unknown: null });
    expect(requestLine("log-forbidden").tenants).toEqual(["a"]);
    // The caller's string is on no line of the request at all.
    expect(gw.logs.entries().filter((l) => l.requestId === "log-forbidden" && JSON.stringify(l).includes("spelled-by-caller"))).toEqual([]);
    await ask(KEY_A, '{ theirs: tenant(id: "b") { id } unknown: tenant(id: "spelled-by-caller") { id } }', {}, "log-only-forbidden");
    expect(requestLine("log-only-forbidden").tenants).toBeUndefined();
  });

  it("names the tenant on each error's own line: the tenant(id:) above it, or the root fields' tenant", async () => {
    // A 403 from ESET (not retried, not a circuit failure) in each tenant's simulator, once.
    const ESET = "query ($uuid: ID!) { esetUser(uuid: $uuid) { uuid } }";
    const uuid = "6f0d6c2e-3b5a-4b8e-9d3c-1a2b3c4d5e6f";
    simA.inject({ target: "eset", kind: "status", status: 403 });
    await ask(KEY_A, ESET, { uuid }, "log-error-root");
    simB.inject({ target: "eset", kind: "status", status: 403 });
    await ask(KEY_AB, '{ mine: tenant(id: "b") { esetUser(uuid: "6f0d6c2e-3b5a-4b8e-9d3c-1a2b3c4d5e6f") { uuid } } }', {}, "log-error-b");
    const errorLines = (requestId: string) => gw.logs.entries("upstream error").filter((l) => l.requestId === requestId);
    expect(errorLines("log-error-root").map((l) => l.tenant)).toEqual(["a"]);
    expect(errorLines("log-error-b").map((l) => [l.tenant, l.path])).toEqual([["b", ["mine", "esetUser"]]]);
  });

  it("names no tenant for a request that read none", async () => {
    await ask(KEY_AB, "{ __typename }", {}, "log-none");
    expect(requestLine("log-none").tenants).toBeUndefined();
    // Root fields refused (TENANT_REQUIRED) read no tenant either.
    await ask(KEY_AB, USER, { id: "contoso\\alice" }, "log-refused");
    expect(requestLine("log-refused")).toMatchObject({ errorCodes: ["TENANT_REQUIRED"] });
    expect(requestLine("log-refused").tenants).toBeUndefined();
  });
});
