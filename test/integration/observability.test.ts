import { DefenderUserDocument, EsetUsersDocument } from "../__generated__/operations";
import { DEMO } from "../../src/simulator/demo-data";
import { SIMULATOR_CREDENTIALS } from "../../src/simulator/simulator";
import { startStack, type Stack } from "../helpers/stack";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ CACHE_TTL_SECONDS: "60", LOG_LEVEL: "info" });
  // Both vendor tokens fetched before any test, so none counts a token request among its calls, whichever
  // runs first (with users no test asks, so that no test finds them cached).
  await stack.gql(DefenderUserDocument, { id: DEMO.defenderCjones });
  await stack.gql(EsetUsersDocument, { uuids: [DEMO.esetCarol] });
});
afterAll(() => stack.close());

async function scrape(): Promise<string> {
  const res = await fetch(stack.gateway.url.replace("/graphql", "/metrics"));
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain");
  return res.text();
}

/** The value of one sample line, or 0 when the series does not exist yet. */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe("metrics at /metrics", () => {
  it("exposes every metric family with its labels", async () => {
    await stack.gql(DefenderUserDocument, { id: DEMO.defenderAlice });
    const text = await scrape();
    for (const name of [
      "usergraph_graphql_request_duration_seconds_bucket",
      "usergraph_upstream_calls_total",
      "usergraph_upstream_call_duration_seconds_bucket",
      "usergraph_cache_lookups_total",
      "usergraph_cache_entries",
      "usergraph_cache_bytes",
      "usergraph_listings_bytes",
      "usergraph_listings_kept",
      "usergraph_rate_limiter_wait_seconds_bucket",
      "usergraph_rate_limiter_queue_depth",
      "usergraph_circuit_state",
      "usergraph_token_refreshes_total",
      "usergraph_process_resident_memory_bytes",
    ]) {
      expect(text).toContain(name);
    }
    expect(text).toContain('usergraph_circuit_state{source="DEFENDER",tenant="default"} 0');
    expect(text).toContain('usergraph_rate_limiter_queue_depth{source="ESET",tenant="default"} 0');
  });

  it("moves its values when calls are made", async () => {
    const before = await scrape();
    const esetCalls = 'usergraph_upstream_calls_total{source="ESET",phase="api",status="200",attempt="1",tenant="default"}';
    const hits = 'usergraph_cache_lookups_total{source="ESET",result="hit",tenant="default"}';
    const misses = 'usergraph_cache_lookups_total{source="ESET",result="miss",tenant="default"}';
    const requests = 'usergraph_graphql_request_duration_seconds_count{operation="EsetUsers",outcome="success"}';
    stack.sim.reset();
    await stack.gql(EsetUsersDocument, { uuids: [DEMO.esetAlice, DEMO.esetBob] });
    await stack.gql(EsetUsersDocument, { uuids: [DEMO.esetAlice, DEMO.esetBob] });
    const after = await scrape();
    expect(sample(after, esetCalls) - sample(before, esetCalls)).toBe(stack.sim.count({ source: "ESET", kind: "api" }));
    expect(stack.sim.count({ source: "ESET", kind: "api" })).toBe(1);
    expect(sample(after, misses) - sample(before, misses)).toBe(2);
    expect(sample(after, hits) - sample(before, hits)).toBe(2);
    expect(sample(after, requests) - sample(before, requests)).toBe(2);
    expect(sample(after, 'usergraph_token_refreshes_total{source="ESET",tenant="default"}')).toBeGreaterThanOrEqual(1);
    expect(sample(after, "usergraph_cache_entries")).toBeGreaterThanOrEqual(2);
  });

  it("counts failed attempts by status and attempt number", async () => {
    stack.sim.inject({ target: "defender", kind: "status", status: 503, times: 3 });
    const before = await scrape();
    await stack.gql(DefenderUserDocument, { id: "fresh-id-for-metrics" });
    const after = await scrape();
    for (const attempt of ["1", "2", "3"]) {
      const series = `usergraph_upstream_calls_total{source="DEFENDER",phase="api",status="503",attempt="${attempt}",tenant="default"}`;
      expect(sample(after, series) - sample(before, series)).toBe(1);
    }
    const failed = 'usergraph_graphql_request_duration_seconds_count{operation="DefenderUser",outcome="partial"}';
    expect(sample(after, failed) - sample(before, failed)).toBe(1);
  });
});

describe("structured logs", () => {
  it("writes one line per GraphQL request with its request id, calls, cache hits and error codes", async () => {
    stack.sim.reset();
    stack.sim.inject({ target: "eset", kind: "status", status: 403 });
    const res = await stack.gql(EsetUsersDocument, { uuids: ["log-test-uuid-1", "log-test-uuid-2"] }, { "x-request-id": "req-logs-1" });
    expect(res.headers.get("x-request-id")).toBe("req-logs-1");
    const lines = stack.logs.entries().filter((e) => e.requestId === "req-logs-1");
    const request = lines.filter((e) => e.msg === "graphql request");
    expect(request).toHaveLength(1);
    expect(request[0]).toMatchObject({
      level: 30,
      service: "usergraph",
      operationName: "EsetUsers",
      outcome: "partial",
      upstreamCalls: 1,
      cacheHits: 0,
      errorCodes: ["UPSTREAM_FORBIDDEN", "UPSTREAM_FORBIDDEN"],
      // Without TENANTS_FILE, the one tenant's id.
      tenants: ["default"],
    });
    expect(typeof request[0]!.durationMs).toBe("number");
    const upstream = lines.filter((e) => e.msg === "upstream call");
    expect(upstream).toEqual([
      expect.objectContaining({ source: "ESET", phase: "api", status: 403, attempt: 1, method: "POST", path: "/v1/users:batchGetUsers" }),
    ]);
    expect(typeof upstream[0]!.upstreamRequestId).toBe("string");
    expect(typeof upstream[0]!.durationMs).toBe("number");
  });

  it("counts cache hits in the request line", async () => {
    await stack.gql(DefenderUserDocument, { id: DEMO.defenderUser1 });
    await stack.gql(DefenderUserDocument, { id: DEMO.defenderUser1 }, { "x-request-id": "req-logs-2" });
    const line = stack.logs.entries("graphql request").find((e) => e.requestId === "req-logs-2");
    expect(line).toMatchObject({ upstreamCalls: 0, cacheHits: 1 });
  });

  it("keeps secrets out of every line", async () => {
    // Its own lines, tokens fetched again included, whichever tests ran before.
    stack.sim.revokeTokens();
    for (let i = 0; i < 6; i++) {
      await stack.gql(DefenderUserDocument, { id: `contoso\\secrets-check-${i}` });
      await stack.gql(EsetUsersDocument, { uuids: [DEMO.esetDave] });
    }
    await new Promise((r) => setTimeout(r, 300)); // logs are flushed every 250 ms
    const text = stack.logs.text();
    expect(stack.logs.lines.length).toBeGreaterThan(10);
    for (const secret of [SIMULATOR_CREDENTIALS.clientSecret, SIMULATOR_CREDENTIALS.esetPassword, ...stack.sim.issuedTokens]) {
      expect(text.includes(secret)).toBe(false);
    }
  });
});
