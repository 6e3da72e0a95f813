import { DefenderUserDocument, DefenderUsersDocument, EsetUserDocument, EsetUsersDocument } from "../__generated__/operations";
import { DEMO } from "../../src/simulator/demo-data";
import { peakInWindow } from "../../src/simulator/simulator";
import { codes, startStack, type Stack } from "../helpers/stack";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe("rate limiting", () => {
  it("survives a 429 storm with Retry-After without exceeding the configured rate at the vendor", async () => {
    stack = await startStack({ ESET_RATE_LIMITS: "5/1s", UPSTREAM_MAX_RETRIES: "3" });
    const uuids = [...stack.sim.esetUsers.keys()].slice(0, 16);
    stack.sim.inject({ target: "eset", kind: "status", status: 429, headers: { "retry-after": "2" }, times: 3 });
    const results = await Promise.all(uuids.map((uuid) => stack!.gql(EsetUserDocument, { uuid })));
    expect(results.map((r) => r.body.data?.esetUser?.uuid)).toEqual(uuids);
    const calls = stack.sim.requests.filter((r) => r.kind === "api");
    expect(calls.filter((c) => c.status === 429)).toHaveLength(3);
    expect(calls).toHaveLength(19);
    expect(peakInWindow(calls, 1000)).toBeLessThanOrEqual(5);
    // The first five went out at once (five free slots); the 429s' Retry-After of 2 s then held back the
    // whole source, longer than the 1 s window alone would have.
    const arrivals = calls.map((c) => c.at).sort((a, b) => a - b);
    expect(arrivals[5]! - arrivals[4]!).toBeGreaterThanOrEqual(1900);
  }, 20_000);

  it("refuses, without calling the vendor, calls it cannot fit in before the request deadline", async () => {
    stack = await startStack({ DEFENDER_RATE_LIMITS: "2/10s", REQUEST_DEADLINE_MS: "1000" });
    const ids = [...stack.sim.defenderUsers.keys()].slice(0, 5);
    const started = Date.now();
    const res = await stack.gql(DefenderUsersDocument, { ids });
    expect(Date.now() - started).toBeLessThan(900);
    expect(res.body.data?.defenderUsers?.filter((u) => u !== null)).toHaveLength(2);
    expect(codes(res)).toEqual(["RATE_LIMITED", "RATE_LIMITED", "RATE_LIMITED"]);
    const ext = res.body.errors![0]!.extensions!;
    expect(ext).toMatchObject({ source: "DEFENDER" });
    expect(ext.status).toBeUndefined();
    expect(ext.retryAfter).toBeGreaterThanOrEqual(9);
    expect(res.body.errors![0]!.message).toContain("to stay within its rate limit");
    expect(stack.sim.count({ source: "DEFENDER", kind: "api" })).toBe(2);
  });
});

describe("entity cache", () => {
  it("makes one upstream call for 100 concurrent identical queries", async () => {
    stack = await startStack({ CACHE_TTL_SECONDS: "60" }, { latencyMs: 50 });
    const results = await Promise.all(Array.from({ length: 100 }, () => stack!.gql(DefenderUserDocument, { id: DEMO.defenderAlice })));
    expect(results.every((r) => r.body.data?.defenderUser?.id === DEMO.defenderAlice)).toBe(true);
    expect(stack.sim.count({ source: "DEFENDER", kind: "api" })).toBe(1);
    const esets = await Promise.all(
      Array.from({ length: 100 }, () => stack!.gql(EsetUsersDocument, { uuids: [DEMO.esetAlice, DEMO.esetBob] })),
    );
    expect(esets.every((r) => r.body.data?.esetUsers?.length === 2)).toBe(true);
    expect(stack.sim.count({ source: "ESET", kind: "api" })).toBe(1);
  });

  it("answers a repeated query within the TTL without any upstream call, and asks again after it", async () => {
    stack = await startStack({ CACHE_TTL_SECONDS: "1" });
    await stack.gql(EsetUsersDocument, { uuids: [DEMO.esetAlice, DEMO.esetBob] });
    await stack.gql(DefenderUserDocument, { id: DEMO.defenderAlice });
    const before = stack.sim.count({ kind: "api" });
    expect(before).toBe(2);
    const again = await stack.gql(EsetUsersDocument, { uuids: [DEMO.esetBob, DEMO.esetAlice] });
    expect(again.body.data?.esetUsers?.map((u) => u?.uuid)).toEqual([DEMO.esetBob, DEMO.esetAlice]);
    await stack.gql(DefenderUserDocument, { id: DEMO.defenderAlice });
    expect(stack.sim.count({ kind: "api" })).toBe(before);
    await new Promise((r) => setTimeout(r, 1100));
    await stack.gql(DefenderUserDocument, { id: DEMO.defenderAlice });
    expect(stack.sim.count({ kind: "api" })).toBe(before + 1);
  });

  it("fetches only the uuids it does not have, and remembers 404s briefly", async () => {
    stack = await startStack({ CACHE_TTL_SECONDS: "60", CACHE_NEGATIVE_TTL_SECONDS: "60" });
    await stack.gql(EsetUsersDocument, { uuids: [DEMO.esetAlice] });
    await stack.gql(EsetUsersDocument, { uuids: [DEMO.esetAlice, DEMO.esetBob, DEMO.esetOpaque] });
    const batch = stack.sim.requests.filter((r) => r.kind === "api").at(-1)!;
    expect(JSON.parse(batch.body)).toEqual({ usersUuids: [DEMO.esetBob, DEMO.esetOpaque] });
    await stack.gql(DefenderUserDocument, { id: "ghost" });
    const ghost = await stack.gql(DefenderUserDocument, { id: "ghost" });
    expect(ghost.body).toEqual({ data: { defenderUser: null } });
    expect(stack.sim.count({ source: "DEFENDER", kind: "api" })).toBe(1);
  });

  it("serves a stale entry when the vendor fails, and says so in extensions", async () => {
    stack = await startStack({ CACHE_TTL_SECONDS: "1", CACHE_STALE_IF_ERROR_SECONDS: "60", UPSTREAM_MAX_RETRIES: "0" });
    await stack.gql(EsetUserDocument, { uuid: DEMO.esetAlice });
    await new Promise((r) => setTimeout(r, 1100));
    stack.sim.inject({ target: "eset", kind: "status", status: 503, times: 5 });
    const res = await stack.gql(EsetUserDocument, { uuid: DEMO.esetAlice });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.esetUser?.displayName).toBe("Alice Example");
    const stale = (res.body as { extensions?: { stale?: Array<Record<string, unknown>> } }).extensions?.stale;
    expect(stale).toEqual([{ source: "ESET", id: DEMO.esetAlice, ageSeconds: 1, reason: "HTTP 503" }]);
    expect(stack.sim.count({ source: "ESET", kind: "api" })).toBe(2);
  });

  it("does not serve stale data without stale-if-error", async () => {
    stack = await startStack({ CACHE_TTL_SECONDS: "1", UPSTREAM_MAX_RETRIES: "0" });
    await stack.gql(EsetUserDocument, { uuid: DEMO.esetAlice });
    await new Promise((r) => setTimeout(r, 1100));
    stack.sim.inject({ target: "eset", kind: "status", status: 503 });
    const res = await stack.gql(EsetUserDocument, { uuid: DEMO.esetAlice });
    expect(codes(res)).toEqual(["UPSTREAM_UNAVAILABLE"]);
  });
});

describe("circuit breaker", () => {
  it("counts a request once: failed attempts that its retries recover do not open the circuit", async () => {
    stack = await startStack({ CIRCUIT_FAILURE_THRESHOLD: "5", CIRCUIT_OPEN_SECONDS: "30", UPSTREAM_MAX_RETRIES: "2" });
    // Five concurrent requests whose first attempts all fail: five failures in a row when each attempt
    // counted (the circuit then opened and failed the retries fast); five successes when requests count.
    stack.sim.inject({ target: "defender", kind: "status", status: 500, times: 5 });
    const ids = [DEMO.defenderAlice, DEMO.defenderUser1, DEMO.defenderContosoUser1, DEMO.defenderCjones, DEMO.defenderDmiller];
    const answers = await Promise.all(ids.map((id) => stack!.gql(DefenderUserDocument, { id })));
    expect(answers.map((a) => codes(a))).toEqual(ids.map(() => []));
    expect(stack.sim.count({ source: "DEFENDER", kind: "api" })).toBe(10);
    const ready = (await (await fetch(stack.gateway.url.replace("/graphql", "/health/ready"))).json()) as {
      sources: { DEFENDER: { circuit: string } };
    };
    expect(ready.sources.DEFENDER.circuit).toBe("closed");
  });

  it("fails fast after repeated failures, keeps the other source working, and recovers through one probe", async () => {
    stack = await startStack({ CIRCUIT_FAILURE_THRESHOLD: "3", CIRCUIT_OPEN_SECONDS: "1", UPSTREAM_MAX_RETRIES: "0" });
    stack.sim.inject({ target: "defender", kind: "status", status: 502, times: 3 });
    for (let i = 0; i < 3; i++)
      expect(codes(await stack.gql(DefenderUserDocument, { id: DEMO.defenderAlice }))).toEqual(["UPSTREAM_ERROR"]);
    const started = Date.now();
    const open = await stack.gql(DefenderUserDocument, { id: DEMO.defenderAlice });
    expect(Date.now() - started).toBeLessThan(200);
    expect(open.body.errors?.[0]?.extensions).toMatchObject({ code: "UPSTREAM_UNAVAILABLE", source: "DEFENDER", retryAfter: 1 });
    expect(open.body.errors?.[0]?.message).toContain("stopped calling it");
    expect(stack.sim.count({ source: "DEFENDER", kind: "api" })).toBe(3);

    const eset = await stack.gql(EsetUserDocument, { uuid: DEMO.esetAlice });
    expect(eset.body.data?.esetUser?.uuid).toBe(DEMO.esetAlice);

    // The replica can still serve ESET: it stays in rotation and reports Defender as degraded.
    const readyWhileOpen = await fetch(stack.gateway.url.replace("/graphql", "/health/ready"));
    expect(readyWhileOpen.status).toBe(200);
    expect(await readyWhileOpen.json()).toMatchObject({
      status: "ready",
      degraded: ["DEFENDER"],
      sources: { DEFENDER: { circuit: "open" }, ESET: { circuit: "closed" } },
    });

    await new Promise((r) => setTimeout(r, 1050));
    stack.sim.latencyMs = 100;
    const [probe, fastFail] = await Promise.all([
      stack.gql(DefenderUserDocument, { id: DEMO.defenderAlice }),
      new Promise((r) => setTimeout(r, 30)).then(() => stack!.gql(DefenderUserDocument, { id: DEMO.defenderUser1 })),
    ]);
    expect(probe.body.data?.defenderUser?.id).toBe(DEMO.defenderAlice);
    expect(codes(fastFail)).toEqual(["UPSTREAM_UNAVAILABLE"]);
    expect(stack.sim.count({ source: "DEFENDER", kind: "api" })).toBe(4);
    const after = await stack.gql(DefenderUserDocument, { id: DEMO.defenderUser1 });
    expect(after.body.data?.defenderUser?.id).toBe(DEMO.defenderUser1);
    expect((await fetch(stack.gateway.url.replace("/graphql", "/health/ready"))).status).toBe(200);
  });
});

describe("ESET pending answers", () => {
  it("resumes polling the same response-id when the client retries the query after UPSTREAM_PENDING", async () => {
    stack = await startStack({ REQUEST_DEADLINE_MS: "300", ESET_PENDING_POLL_MS: "40" });
    // ESET's token first (asked until it is held), so the 300 ms deadline is the polls' alone: a cold token
    // request on a loaded machine can take most of it (UPSTREAM_TIMEOUT instead of UPSTREAM_PENDING).
    for (let i = 0; i < 20 && !(await stack.gql(EsetUserDocument, { uuid: DEMO.esetAlice })).body.data?.esetUser; i++) {
      await new Promise((r) => setTimeout(r, 200));
    }
    stack.sim.reset();
    stack.sim.inject({ target: "eset", kind: "pending", polls: 8 });
    const uuids = [DEMO.esetAlice, DEMO.esetBob];
    const first = await stack.gql(EsetUsersDocument, { uuids });
    expect(codes(first)).toEqual(["UPSTREAM_PENDING", "UPSTREAM_PENDING"]);
    const firstCalls = stack.sim.count({ source: "ESET", kind: "api" });
    expect(firstCalls).toBeGreaterThanOrEqual(2);
    expect(firstCalls).toBeLessThan(9);

    let res = await stack.gql(EsetUsersDocument, { uuids });
    for (let i = 0; i < 5 && res.body.errors; i++) res = await stack.gql(EsetUsersDocument, { uuids });
    expect(res.body.data?.esetUsers?.map((u) => u?.uuid)).toEqual(uuids);
    const calls = stack.sim.requests.filter((r) => r.kind === "api");
    // Only the very first call started a query; every later one presented the same response-id.
    expect(calls.filter((c) => c.headers["response-id"] === undefined)).toHaveLength(1);
    expect(new Set(calls.slice(1).map((c) => c.headers["response-id"])).size).toBe(1);
    expect(calls).toHaveLength(9);
  });
});

describe("health and shutdown", () => {
  it("stays ready while one vendor's credentials fail, reporting that source as degraded", async () => {
    stack = await startStack({ DEFENDER_CLIENT_SECRET: "wrong-secret-for-readiness" });
    const base = stack.gateway.url.replace("/graphql", "");
    const live = await fetch(`${base}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: "ok" });
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: "ready",
      degraded: ["DEFENDER"],
      sources: {
        // The refusal is remembered (with the vendor's OAuth error and when the next login goes): see hostile.trust-tokens.test.ts.
        DEFENDER: {
          configured: true,
          circuit: "closed",
          token: "failed: http 401 invalid_client",
          tokenRetryInSeconds: expect.any(Number),
        },
        ESET: { configured: true, circuit: "closed", token: "ok" },
      },
    });
  });

  it("finishes every in-flight request on shutdown and then refuses new ones", async () => {
    stack = await startStack({}, { latencyMs: 300 });
    const url = stack.gateway.url;
    const ids = [...stack.sim.defenderUsers.keys()].slice(0, 20);
    const inflight = ids.map((id) => stack!.gql(DefenderUserDocument, { id }));
    // In flight means inside the gateway: wait until every request has reached the (slow) vendor, rather
    // than a fixed pause that a loaded machine can outlast before the last request has even been read (the
    // server then closes that still-idle connection, as it must when shutting down).
    const sim = stack.sim;
    for (const t0 = Date.now(); sim.count({ source: "DEFENDER", kind: "api" }) < ids.length;) {
      if (Date.now() - t0 > 10_000)
        throw new Error(`only ${sim.count({ source: "DEFENDER", kind: "api" })} of ${ids.length} requests reached Defender`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const stopping = stack.gateway.stop();
    // A second stop while the first runs (a signal during shutdown, a cleanup) joins it: nothing is closed twice.
    const again = stack.gateway.stop();
    const results = await Promise.all(inflight);
    expect(await again).toBe(await stopping);
    expect(results.map((r) => r.status)).toEqual(ids.map(() => 200));
    expect(results.map((r) => r.body.data?.defenderUser?.id)).toEqual(ids);
    await expect(fetch(url, { method: "POST" })).rejects.toThrow();
    await stack.sim.close();
    stack = undefined;
  });
});
