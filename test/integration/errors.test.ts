import { createServer } from "node:net";
import { DefenderUserDocument, EsetUserDocument, EsetUsersDocument } from "../__generated__/operations";
import { DEMO } from "../../src/simulator/demo-data";
import { codes, simulatorEnv, startGatewayOn, startStack, type GatewayClient, type Stack } from "../helpers/stack";

/** One row per line of DESIGN.md's error table that a vendor status produces. */
const statusRows: Array<{ status: number; code: string; retried: boolean; upstreamCode: { DEFENDER: string; ESET: string } }> = [
  { status: 400, code: "BAD_USER_INPUT", retried: false, upstreamCode: { DEFENDER: "BadRequest", ESET: "INVALID_ARGUMENT" } },
  { status: 403, code: "UPSTREAM_FORBIDDEN", retried: false, upstreamCode: { DEFENDER: "Forbidden", ESET: "PERMISSION_DENIED" } },
  { status: 429, code: "RATE_LIMITED", retried: true, upstreamCode: { DEFENDER: "TooManyRequests", ESET: "RESOURCE_EXHAUSTED" } },
  { status: 500, code: "UPSTREAM_ERROR", retried: true, upstreamCode: { DEFENDER: "InternalServerError", ESET: "INTERNAL" } },
  { status: 502, code: "UPSTREAM_ERROR", retried: true, upstreamCode: { DEFENDER: "InternalServerError", ESET: "UNAVAILABLE" } },
  { status: 501, code: "UPSTREAM_UNAVAILABLE", retried: false, upstreamCode: { DEFENDER: "InternalServerError", ESET: "UNIMPLEMENTED" } },
  { status: 503, code: "UPSTREAM_UNAVAILABLE", retried: true, upstreamCode: { DEFENDER: "InternalServerError", ESET: "UNAVAILABLE" } },
  { status: 504, code: "UPSTREAM_TIMEOUT", retried: true, upstreamCode: { DEFENDER: "InternalServerError", ESET: "DEADLINE_EXCEEDED" } },
];

const sources = [
  { source: "DEFENDER" as const, target: "defender" as const },
  { source: "ESET" as const, target: "eset" as const },
];

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ UPSTREAM_MAX_RETRIES: "2" });
  // Both tokens held before any test, so that no test counts the first token request among its own.
  await ask("DEFENDER");
  await ask("ESET");
});
afterAll(() => stack.close());
beforeEach(() => stack.sim.reset());

function ask(source: "DEFENDER" | "ESET") {
  return source === "DEFENDER"
    ? stack.gql(DefenderUserDocument, { id: DEMO.defenderAlice }).then((r) => ({ res: r, value: r.body.data?.defenderUser }))
    : stack.gql(EsetUserDocument, { uuid: DEMO.esetAlice }).then((r) => ({ res: r, value: r.body.data?.esetUser }));
}

describe("the error table", () => {
  describe.each(sources)("$source", ({ source, target }) => {
    it.each(statusRows)("maps a persistent HTTP $status to $code", async ({ status, code, retried, upstreamCode }) => {
      stack.sim.inject({ target, kind: "status", status, times: 10 });
      const { res, value } = await ask(source);
      expect(res.status).toBe(200);
      expect(value).toBeNull();
      expect(res.body.errors).toHaveLength(1);
      const ext = res.body.errors![0]!.extensions!;
      expect(ext).toMatchObject({ code, source, status, upstreamCode: upstreamCode[source] });
      expect(typeof ext.upstreamRequestId).toBe("string");
      expect(ext).not.toHaveProperty("http");
      expect(stack.sim.count({ source, kind: "api" })).toBe(retried ? 3 : 1);
    });

    it("recovers when a 5xx flaps and the retry succeeds", async () => {
      stack.sim.inject({ target, kind: "status", status: 503, times: 2 });
      const { res, value } = await ask(source);
      expect(res.body.errors).toBeUndefined();
      expect(value).not.toBeNull();
      expect(stack.sim.count({ source, kind: "api" })).toBe(3);
    });

    it("honours Retry-After on a 429 and then answers", async () => {
      stack.sim.inject({ target, kind: "status", status: 429, headers: { "retry-after": "1" } });
      const started = Date.now();
      const { res, value } = await ask(source);
      expect(res.body.errors).toBeUndefined();
      expect(value).not.toBeNull();
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    });

    it("reports retryAfter from a 429 it could not get past", async () => {
      stack.sim.inject({ target, kind: "status", status: 429, headers: { "retry-after": "0" }, times: 10 });
      const { res } = await ask(source);
      expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", retryAfter: 0, status: 429 });
    });

    it("gives UPSTREAM_BAD_RESPONSE for a body that is not JSON, without retrying", async () => {
      stack.sim.inject({ target, kind: "bad-json" });
      const { res } = await ask(source);
      expect(codes(res)).toEqual(["UPSTREAM_BAD_RESPONSE"]);
      expect(res.body.errors?.[0]?.extensions?.status).toBe(200);
      expect(stack.sim.count({ source, kind: "api" })).toBe(1);
    });

    it("gives UPSTREAM_BAD_RESPONSE for JSON that is not the documented shape", async () => {
      stack.sim.inject({ target, kind: "wrong-shape" });
      const { res } = await ask(source);
      expect(codes(res)).toEqual(["UPSTREAM_BAD_RESPONSE"]);
    });

    it("gives UPSTREAM_UNREACHABLE when the connection is reset on every attempt", async () => {
      stack.sim.inject({ target, kind: "reset", times: 10 });
      const { res } = await ask(source);
      expect(codes(res)).toEqual(["UPSTREAM_UNREACHABLE"]);
      expect(stack.sim.count({ source, kind: "api" })).toBe(3);
    });

    it("refreshes the token once and retries on a 401, then succeeds", async () => {
      await ask(source); // the gateway holds a token, whatever ran before
      stack.sim.reset();
      // Only this source's: the other's would cost the next test an unplanned 401 and refresh.
      stack.sim.revokeTokens(source);
      const tokensBefore = stack.sim.issuedTokens.length;
      const { res, value } = await ask(source);
      expect(res.body.errors).toBeUndefined();
      expect(value).not.toBeNull();
      expect(stack.sim.count({ source, kind: "api" })).toBe(2);
      expect(stack.sim.count({ source, kind: "token" })).toBe(1);
      expect(stack.sim.issuedTokens.length).toBeGreaterThan(tokensBefore);
    });

    it("gives UPSTREAM_UNAUTHENTICATED when the API still answers 401 after a token refresh", async () => {
      stack.sim.inject({ target, kind: "status", status: 401, times: 2 });
      const { res } = await ask(source);
      expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: "UPSTREAM_UNAUTHENTICATED", source, status: 401 });
      expect(stack.sim.count({ source, kind: "api" })).toBe(2);
      expect(stack.sim.count({ source, kind: "token" })).toBe(1);
    });
  });

  it("resolves ESET's 202 by resending the identical request with the response-id header", async () => {
    const uuids = [DEMO.esetAlice, DEMO.esetBob];
    stack.sim.inject({ target: "eset", kind: "pending", polls: 3 });
    const res = await stack.gql(EsetUsersDocument, { uuids });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.esetUsers?.map((u) => u?.uuid)).toEqual(uuids);
    const calls = stack.sim.requests.filter((r) => r.kind === "api");
    expect(calls).toHaveLength(4);
    expect(new Set(calls.map((c) => `${c.method} ${c.path} ${c.body}`)).size).toBe(1);
    expect(calls[0]!.headers["response-id"]).toBeUndefined();
    const responseIds = calls.slice(1).map((c) => c.headers["response-id"]);
    expect(responseIds.every((id) => typeof id === "string" && id === responseIds[0])).toBe(true);
    expect(calls.map((c) => c.status)).toEqual([202, 202, 202, 200]);
  });

  it("starts over when ESET has forgotten a response-id (404 while polling)", async () => {
    stack.sim.inject({ target: "eset", kind: "pending", polls: 1 });
    stack.sim.inject({ target: "eset", kind: "status", status: 404 });
    // The first answer is the 202; the queued 404 then hits the poll.
    const res = await stack.gql(EsetUserDocument, { uuid: DEMO.esetAlice });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.esetUser?.uuid).toBe(DEMO.esetAlice);
    const calls = stack.sim.requests.filter((r) => r.kind === "api");
    expect(calls.map((c) => c.status)).toEqual([202, 404, 200]);
    expect(calls[2]!.headers["response-id"]).toBeUndefined();
  });

  it("never sends a request for arguments that fail our own checks", async () => {
    const res = await stack.gql(EsetUsersDocument, { uuids: [DEMO.esetAlice, "bad uuid with spaces", "x".repeat(101)] });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ esetUsers: null });
    expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.body.errors?.[0]?.message).toContain("uuids");
    expect(res.text).not.toContain("x".repeat(101));
    const control = await stack.gql(DefenderUserDocument, { id: "alice\u0000" });
    expect(codes(control)).toEqual(["BAD_USER_INPUT"]);
    expect(stack.sim.requests).toHaveLength(0);
  });
});

describe("CSRF prevention (every mode)", () => {
  it("refuses a plain GET with a message that names the header that fixes it, and answers the GET that sends it", async () => {
    const url = `${stack.gateway.url}?query=${encodeURIComponent("{ __typename }")}`;
    const plain = await fetch(url);
    expect(plain.status).toBe(400);
    const body = (await plain.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
    expect(body.errors[0]!.extensions.code).toBe("BAD_REQUEST");
    expect(body.errors[0]!.message).toContain("apollo-require-preflight");
    expect(body.errors[0]!.message).not.toContain("truncated");
    const preflighted = await fetch(url, { headers: { "apollo-require-preflight": "true" } });
    expect(await preflighted.json()).toEqual({ data: { __typename: "Query" } });
  });
});

describe("deadlines", () => {
  const SHORT = { REQUEST_DEADLINE_MS: "700", UPSTREAM_TIMEOUT_MS: "200", ESET_PENDING_POLL_MS: "50" };
  let short: Stack;
  beforeAll(async () => {
    short = await startStack(SHORT);
    await warm(short);
  });
  afterAll(() => short.close());
  beforeEach(() => short.sim.reset());

  /**
   * Tokens fetched and code warmed, so that a test times only its own request, whichever runs first. Asked
   * until both answer: on a loaded machine a cold token request can outlast the 200 ms attempt timeout, and
   * a test that met the remembered token failure would see UPSTREAM_TIMEOUT instead of its own row.
   */
  async function warm(gateway: GatewayClient): Promise<void> {
    for (let i = 0; i < 50; i++) {
      const defender = await gateway.gql(DefenderUserDocument, { id: DEMO.defenderAlice });
      const eset = await gateway.gql(EsetUserDocument, { uuid: DEMO.esetAlice });
      if (defender.body.data?.defenderUser && eset.body.data?.esetUser) return;
      // The token cache holds a failure back for a second or so (its backoff) before it asks again.
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error("the gateway never answered both sources while warming up");
  }

  /** A long Retry-After pauses the whole source in the gateway that got it: such a test gets a gateway of its own. */
  async function withOwnGateway(test: (gateway: GatewayClient) => Promise<void>, env: Record<string, string> = {}): Promise<void> {
    const gateway = await startGatewayOn(short.sim, { ...SHORT, ...env });
    try {
      await warm(gateway);
      short.sim.reset();
      await test(gateway);
    } finally {
      await gateway.close();
    }
  }

  it("gives UPSTREAM_TIMEOUT when an attempt hangs past UPSTREAM_TIMEOUT_MS", async () => {
    short.sim.inject({ target: "defender", kind: "hang", times: 10 });
    const started = Date.now();
    const res = await short.gql(DefenderUserDocument, { id: DEMO.defenderAlice });
    expect(codes(res)).toEqual(["UPSTREAM_TIMEOUT"]);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ source: "DEFENDER" });
    // The simulator never answers: the attempt timeout, or at the latest the 700 ms deadline, ends the wait
    // (the bound is loose on purpose: a loaded machine stretches it, a hang would not end at all).
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("gives UPSTREAM_PENDING when ESET still answers 202 at the deadline", async () => {
    short.sim.inject({ target: "eset", kind: "pending", polls: 1000 });
    const res = await short.gql(EsetUserDocument, { uuid: DEMO.esetAlice });
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: "UPSTREAM_PENDING", source: "ESET", status: 202 });
    expect(short.sim.count({ source: "ESET", kind: "api" })).toBeGreaterThan(2);
  });

  it("fails at once with RATE_LIMITED when Retry-After is longer than the time left", () =>
    withOwnGateway(
      async (gateway) => {
        short.sim.inject({ target: "defender", kind: "status", status: 429, headers: { "retry-after": "120" } });
        const started = Date.now();
        const res = await gateway.gql(DefenderUserDocument, { id: DEMO.defenderAlice });
        expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", retryAfter: 120, source: "DEFENDER" });
        // "At once": well before the 15 s deadline it would otherwise have waited for (a wide margin, so a
        // loaded machine's slow request cannot fail it).
        expect(Date.now() - started).toBeLessThan(5_000);
        expect(short.sim.count({ source: "DEFENDER", kind: "api" })).toBe(1);
      },
      { REQUEST_DEADLINE_MS: "15000" },
    ));

  it("reads Retry-After given as an HTTP date", () =>
    withOwnGateway(async (gateway) => {
      const inOneHour = new Date(Date.now() + 3_600_000).toUTCString();
      short.sim.inject({ target: "eset", kind: "status", status: 429, headers: { "retry-after": inOneHour } });
      const res = await gateway.gql(EsetUserDocument, { uuid: DEMO.esetAlice });
      const retryAfter = res.body.errors?.[0]?.extensions?.retryAfter as number;
      expect(retryAfter).toBeGreaterThan(3500);
      expect(retryAfter).toBeLessThanOrEqual(3600);
    }));
});

describe("configuration-dependent rows", () => {
  it("answers SOURCE_NOT_CONFIGURED for a source without credentials, without calling it", async () => {
    const esetOnly = await startStack({}, {}, (sim) => {
      const env = simulatorEnv(sim);
      return Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith("ESET_")));
    });
    try {
      const res = await esetOnly.gql(DefenderUserDocument, { id: DEMO.defenderAlice });
      expect(res.body.data?.defenderUser).toBeNull();
      expect(res.body.errors?.[0]?.extensions).toEqual({ code: "SOURCE_NOT_CONFIGURED", source: "DEFENDER" });
      expect(res.body.errors?.[0]?.message).toContain("DEFENDER_CLIENT_SECRET");
      const eset = await esetOnly.gql(EsetUserDocument, { uuid: DEMO.esetAlice });
      expect(eset.body.data?.esetUser?.uuid).toBe(DEMO.esetAlice);
      expect(esetOnly.sim.count({ source: "DEFENDER" })).toBe(0);
    } finally {
      await esetOnly.close();
    }
  });

  it("answers UPSTREAM_UNREACHABLE when nothing listens at the vendor's address", async () => {
    const port = await closedPort();
    const refused = await startStack({ DEFENDER_API_URL: `http://127.0.0.1:${port}` });
    try {
      const res = await refused.gql(DefenderUserDocument, { id: DEMO.defenderAlice });
      expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: "UPSTREAM_UNREACHABLE", source: "DEFENDER" });
    } finally {
      await refused.close();
    }
  });

  it("answers UPSTREAM_UNAUTHENTICATED with the OAuth error when Entra refuses the client secret", async () => {
    const wrong = await startStack({ DEFENDER_CLIENT_SECRET: "not-the-right-secret-value" });
    try {
      const res = await wrong.gql(DefenderUserDocument, { id: DEMO.defenderAlice });
      expect(res.body.errors?.[0]?.extensions).toMatchObject({
        code: "UPSTREAM_UNAUTHENTICATED",
        source: "DEFENDER",
        status: 401,
        upstreamCode: "invalid_client",
      });
      expect(typeof res.body.errors?.[0]?.extensions?.upstreamRequestId).toBe("string");
      expect(wrong.sim.count({ source: "DEFENDER", kind: "api" })).toBe(0);
      expect(res.text).not.toContain("not-the-right-secret-value");
      expect(wrong.logs.text()).not.toContain("not-the-right-secret-value");
    } finally {
      await wrong.close();
    }
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
