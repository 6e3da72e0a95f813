import { createHash } from "node:crypto";
import { SignJWT } from "jose";
import { BothUsersDocument } from "../__generated__/operations";
import { DEMO } from "../../src/simulator/demo-data";
import { uniquePrefix } from "../helpers/replicas";
import { codes, startStack, type Stack } from "../helpers/stack";

/**
 * Class 4 of the hostile suite, "smaller holes, same class (trust)": what a credential is trusted for and
 * for how long, whose persisted queries a caller can probe, what a client's strings can do to logs and
 * metrics, and who can read /metrics. Every check counts what reached the simulator. The same class, in
 * their own files because they take seconds: token failures remembered instead of a login per probe
 * (hostile.trust-tokens.test.ts) and an exit that a stalled log consumer cannot hold (hostile.trust-exit.test.ts).
 */
const KEY = "trust-suite-api-key-3f9a1c7e";
const JWT_SECRET = "a-shared-secret-of-at-least-32-characters!";
const ISSUER = "https://issuer.example.com/";
const AUDIENCE = "api://usergraph";
const secretKey = new TextEncoder().encode(JWT_SECRET);
const both = { id: DEMO.defenderAlice, uuid: DEMO.esetAlice };
const now = () => Math.floor(Date.now() / 1000);

interface Claims {
  iat?: number;
  exp?: number;
  [claim: string]: unknown;
}

/** A JWT with exactly the claims given (no defaults for iat/exp, so their absence can be tested). */
function sign(claims: Claims): Promise<string> {
  return new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: "trust-suite", ...claims }).setProtectedHeader({ alg: "HS256" }).sign(secretKey);
}

describe("JWT rules: expiry required, age bounded, a usergraph scope required", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      AUTH_MODE: "",
      AUTH_API_KEYS: KEY,
      AUTH_JWT_SECRET: JWT_SECRET,
      AUTH_JWT_ISSUER: ISSUER,
      AUTH_JWT_AUDIENCE: AUDIENCE,
      AUTH_JWT_MAX_AGE_SECONDS: "3600",
    });
  });
  afterAll(() => stack.close());

  const cases: Array<[string, () => Claims, RegExp]> = [
    ["no exp", () => ({ iat: now(), scp: "defender:users:read" }), /no exp claim/],
    ["no iat", () => ({ exp: now() + 300, scp: "defender:users:read" }), /no iat claim/],
    [
      "exp ten years ahead",
      () => ({ iat: now(), exp: now() + 10 * 365 * 86_400, scp: "defender:users:read" }),
      /exp claim is more than 3600 s ahead/,
    ],
    [
      "iat in the future beyond the clock skew",
      () => ({ iat: now() + 600, exp: now() + 900, scp: "defender:users:read" }),
      /iat claim is in the future/,
    ],
    [
      "issued longer ago than the max age",
      () => ({ iat: now() - 7200, exp: now() + 300, scp: "defender:users:read" }),
      /issued longer ago/,
    ],
    [
      "a lifetime longer than the max age",
      () => ({ iat: now() - 10, exp: now() + 3595, scp: "defender:users:read" }),
      /lifetime \(exp - iat\) is longer than 3600 s/,
    ],
    [
      "none of usergraph's scopes",
      () => ({ iat: now(), exp: now() + 300, scp: "mail.read openid", roles: ["Admin"] }),
      /none of usergraph's scopes/,
    ],
  ];

  it.each(cases)("refuses a token with %s: 401 naming the reason, no vendor call", async (_name, claims, reason) => {
    stack.sim.reset();
    const res = await stack.gql(BothUsersDocument, both, { authorization: `Bearer ${await sign(claims())}` });
    expect(res.status).toBe(401);
    expect(codes(res)).toEqual(["UNAUTHENTICATED"]);
    expect(res.body.errors?.[0]?.message).toMatch(reason);
    expect(res.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
    expect(stack.sim.requests).toEqual([]);
  });

  it("accepts a token within the rules (skew tolerated on iat) and serves its scopes", async () => {
    stack.sim.reset();
    const token = await sign({ iat: now() + 30, exp: now() + 3600, scp: "defender:users:read eset:users:read" });
    const res = await stack.gql(BothUsersDocument, both, { authorization: `Bearer ${token}` });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.esetUser?.displayName).toBe("Alice Example");
    expect(stack.sim.count({ kind: "api" })).toBe(2);
  });
});

describe("persisted queries (APQ): one namespace per caller, client mistakes are client errors", () => {
  const KEY_A = "apq-caller-a-key-7d2e9b41c0";
  const KEY_B = "apq-caller-b-key-1a8f3c62e5";
  const query = `query ProbePerson { esetUser(uuid: "${DEMO.esetBob}") { uuid displayName } }`;
  const sha256Hash = createHash("sha256").update(query).digest("hex");
  const extensions = { persistedQuery: { version: 1, sha256Hash } };

  it.each([
    ["in process", {}],
    ["through Redis", { REDIS_URL: "redis://127.0.0.1:6379", REDIS_KEY_PREFIX: uniquePrefix() }],
  ])("%s: a hash registered by one caller is unknown to another, and a wrong hash is a 400", async (_name, env) => {
    const stack = await startStack({ AUTH_MODE: "", AUTH_API_KEYS: `${KEY_A},${KEY_B}`, ...env });
    try {
      const a = { "x-api-key": KEY_A };
      const b = { "x-api-key": KEY_B };
      expect((await stack.post(JSON.stringify({ extensions }), a)).body.errors?.[0]?.extensions?.code).toBe("PERSISTED_QUERY_NOT_FOUND");
      expect((await stack.post(JSON.stringify({ query, extensions }), a)).body.data).toEqual({
        esetUser: { uuid: DEMO.esetBob, displayName: "Bob Fabrikam" },
      });
      expect((await stack.post(JSON.stringify({ extensions }), a)).body.data).toEqual({
        esetUser: { uuid: DEMO.esetBob, displayName: "Bob Fabrikam" },
      });

      // Caller B cannot learn from the hash whether A ran this query, and nothing reaches a vendor.
      stack.sim.reset();
      const probe = await stack.post(JSON.stringify({ extensions }), b);
      expect(probe.body.data).toBeUndefined();
      expect(codes(probe)).toEqual(["PERSISTED_QUERY_NOT_FOUND"]);
      expect(stack.sim.requests).toEqual([]);

      // A hash that does not match its query is the client's mistake: 400 BAD_REQUEST, an info line, no stack.
      const wrong = await stack.post(
        JSON.stringify({ query, extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } } }),
        b,
      );
      expect(wrong.status).toBe(400);
      expect(codes(wrong)).toEqual(["BAD_REQUEST"]);
      expect(wrong.body.errors?.[0]?.message).toMatch(/sha does not match/);
      expect(stack.sim.requests).toEqual([]);
      const levels = stack.logs.entries().filter((e) => JSON.stringify(e).includes("sha does not match"));
      expect(levels.length).toBeGreaterThan(0);
      expect(levels.every((e) => e.level === 30 && !JSON.stringify(e).includes("stack"))).toBe(true);
      expect(stack.logs.entries().filter((e) => Number(e.level) >= 50)).toEqual([]);
    } finally {
      await stack.close();
    }
  });
});

describe("client strings in logs and metric labels are bounded", () => {
  const KEY_JUNK = "label-junk-caller-key-5c1d9e";
  const KEY_REAL = "label-real-caller-key-8b3f2a";
  let stack: Stack;
  beforeAll(async () => {
    // MAX_BODY_BYTES raised from its 256 KiB default so a 900 KB operation name reaches the log.
    stack = await startStack({
      AUTH_MODE: "",
      AUTH_API_KEYS: `${KEY_JUNK},${KEY_REAL}`,
      LOG_LEVEL: "info",
      MAX_BODY_BYTES: String(1024 * 1024),
    });
  });
  afterAll(() => stack.close());
  const metricsText = () => fetch(stack.gateway.url.replace("/graphql", "/metrics")).then((r) => r.text());

  it("logs a 900 KB operation name as a bounded line", async () => {
    const name = `Op${"A".repeat(900_000)}`;
    const res = await stack.post(JSON.stringify({ query: `query ${name} { __typename }` }), { "x-api-key": KEY_JUNK });
    expect(res.status).toBe(200);
    const line = stack.logs.lines.find((l) => l.includes('"graphql request"') && l.includes("OpAAAA"));
    expect(line).toBeDefined();
    // Before: a 900 KB line.
    expect(line!.length).toBeLessThan(2_000);
    expect(JSON.parse(line!).operationName).toMatch(/^OpA{198}…\(\+899802 chars\)$/);
    expect(stack.logs.lines.every((l) => l.length < 4_000)).toBe(true);
  });

  it("keeps label room for real operations after 100 junk names, valid or not, from one caller", async () => {
    const junk = { "x-api-key": KEY_JUNK };
    for (let i = 0; i < 100; i++) {
      await stack.post(JSON.stringify({ query: `query Junk${i} { __typename }` }), junk);
      await stack.post(JSON.stringify({ query: `query Invalid${i} { noSuchField }` }), junk);
    }
    const real = await stack.gql(BothUsersDocument, both, { "x-api-key": KEY_REAL });
    expect(real.body.errors).toBeUndefined();
    const text = await metricsText();
    // Before: every real operation was `other` once 100 names were taken.
    expect(text).toMatch(/usergraph_graphql_request_duration_seconds_count\{operation="BothUsers",outcome="success"\} 1/);
    // One caller introduces at most 20 names; documents that fail validation never earn one.
    const junkLabels = new Set([...text.matchAll(/operation="(Junk\d+)"/g)].map((m) => m[1]));
    expect(junkLabels.size).toBe(20);
    expect(text).not.toMatch(/operation="Invalid\d+"/);
    expect(text).toMatch(/usergraph_graphql_request_duration_seconds_count\{operation="invalid",outcome="error"\} 100/);
  });

  it("logs vendor 404s per id at debug, counted on the request's line", async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `contoso\\nobody${i}`);
    const query = `query Missing($ids: [ID!]!) { defenderUsers(ids: $ids) { id } }`;
    // The Defender token fetched first, whichever test ran before: its request would count as a 21st call.
    await stack.post(JSON.stringify({ query: `{ defenderUser(id: "contoso\\\\alice") { id } }` }), { "x-api-key": KEY_REAL });
    const before = stack.logs.lines.length;
    const res = await stack.post(JSON.stringify({ query, variables: { ids } }), { "x-api-key": KEY_REAL });
    expect(res.body.errors).toBeUndefined();
    const lines = stack.logs.lines.slice(before).map((l) => JSON.parse(l) as Record<string, unknown>);
    // Before: 20 info lines "upstream call" with status 404.
    expect(lines.filter((e) => e.msg === "upstream call")).toEqual([]);
    expect(lines.find((e) => e.msg === "graphql request")).toMatchObject({
      operationName: "Missing",
      upstreamCalls: 20,
      upstreamNotFound: 20,
    });
  });
});

describe("/metrics exposure", () => {
  const KEY = "metrics-suite-api-key-4e7b1f";
  const production = { NODE_ENV: "production", AUTH_MODE: "", AUTH_API_KEYS: KEY };
  const metricsOnGraphqlPort = (stack: Stack, headers: Record<string, string> = {}) =>
    fetch(stack.gateway.url.replace("/graphql", "/metrics"), { headers });

  it("is not served publicly in production without METRICS_PORT or METRICS_TOKEN", async () => {
    const stack = await startStack(production);
    try {
      const res = await metricsOnGraphqlPort(stack);
      // Before: 200 with every metric, to anyone.
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain("usergraph_");
      expect(stack.gateway.metricsUrl).toBeUndefined();
    } finally {
      await stack.close();
    }
  });

  it("with METRICS_TOKEN needs the bearer token", async () => {
    const token = "metrics-token-0d9c8b7a6f5e4d3c";
    const stack = await startStack({ ...production, METRICS_TOKEN: token });
    try {
      expect((await metricsOnGraphqlPort(stack)).status).toBe(401);
      expect((await metricsOnGraphqlPort(stack, { authorization: "Bearer metrics-token-0d9c8b7a6f5e4d3X" })).status).toBe(401);
      // An API key for /graphql is not a metrics token.
      expect((await metricsOnGraphqlPort(stack, { authorization: `Bearer ${KEY}` })).status).toBe(401);
      const ok = await metricsOnGraphqlPort(stack, { authorization: `Bearer ${token}` });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain("usergraph_token_refreshes_total");
      expect(stack.logs.text()).not.toContain(token);
    } finally {
      await stack.close();
    }
  });

  it("with METRICS_PORT is served on its own loopback listener and not on the GraphQL port", async () => {
    const stack = await startStack({ ...production, METRICS_PORT: "0" });
    try {
      expect((await metricsOnGraphqlPort(stack)).status).toBe(404);
      expect(stack.gateway.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      expect(stack.gateway.metricsUrl).not.toBe(stack.gateway.url.replace("/graphql", "/metrics"));
      const res = await fetch(stack.gateway.metricsUrl!);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("usergraph_graphql_request_duration_seconds");
      // Only /metrics there: the GraphQL endpoint is not reachable through the metrics port.
      expect((await fetch(stack.gateway.metricsUrl!.replace("/metrics", "/graphql"))).status).toBe(404);
    } finally {
      await stack.close();
    }
  });
});
