import { DefenderUserDocument, DefenderUsersDocument } from "../__generated__/operations";
import { DEMO } from "../../src/simulator/demo-data";
import { codes, startStack, type GraphQLResponse, type Stack } from "../helpers/stack";

/**
 * Issue 18, item 4: an operation's Defender price is a promise to Defender's quota, so it bounds what
 * Defender sees, every HTTP attempt included: retries of 5xx, 429 and network errors. It used to count
 * logical calls only: 100 flaky ids priced at 100 made 130 Defender requests. Now an operation makes at
 * most its price plus a reserve of UPSTREAM_MAX_RETRIES attempts, never past MAX_DEFENDER_COST.
 */

let stack: Stack;
beforeAll(async () => {
  // The defaults that matter: MAX_DEFENDER_COST 100, UPSTREAM_MAX_RETRIES 2 (a reserve of 2), DEFENDER_CONCURRENCY 25.
  stack = await startStack();
});
afterAll(() => stack.close());
beforeEach(() => stack.sim.reset());

/** Ids Defender does not know (each one GET, answered 404): zero-padded, so no id's path contains another's. */
const ids = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}-${String(i).padStart(3, "0")}`);
const defenderCalls = () => stack.sim.count({ source: "DEFENDER", kind: "api" });

/** Every third id of the first 90 (30 in all) fails its first attempt, as a flaky vendor does. */
function makeFlaky(list: string[], fault: { status: number; headers?: Record<string, string> }): void {
  list.forEach((id, i) => {
    if (i % 3 === 0 && i < 90) stack.sim.inject({ target: "defender-users", pathIncludes: id, kind: "status", ...fault });
  });
}

/** The error code per list index (an entry without one was answered). */
function errorsByIndex(res: GraphQLResponse<unknown>): Map<number, unknown> {
  return new Map((res.body.errors ?? []).map((e) => [e.path?.[1] as number, e.extensions?.code]));
}

describe("the operation's Defender price bounds every attempt Defender sees", () => {
  it.each([
    ["500", { status: 500 }, "UPSTREAM_ERROR"],
    ["429 with a short Retry-After", { status: 429, headers: { "retry-after": "0" } }, "RATE_LIMITED"],
  ])("100 ids priced at 100, 30 of them answered %s once: at most 100 Defender requests", async (_name, fault, vendorCode) => {
    const list = ids("flaky", 100);
    makeFlaky(list, fault);
    const res = await stack.gql(DefenderUsersDocument, { ids: list });
    expect(res.status).toBe(200);
    expect(defenderCalls()).toBeLessThanOrEqual(100);
    // The price bought 100 attempts and the retries came out of them, so about 30 ids could not be answered.
    // Each says why: the vendor's error (its retry was not sent) or the price (its first call was not sent).
    const failed = errorsByIndex(res);
    expect(failed.size).toBeGreaterThan(0);
    expect(failed.size).toBeLessThanOrEqual(30);
    for (const code of failed.values()) expect([vendorCode, "OPERATION_LIMIT_EXCEEDED"]).toContain(code);
    expect(res.body.data?.defenderUsers).toEqual(Array(100).fill(null));
  });

  it("does not charge the re-send after a 401: a revoked token still answers 100 ids priced at 100", async () => {
    // The 401'd attempts never authenticated as the app, so Defender's per-app quota did not count them.
    expect((await stack.gql(DefenderUserDocument, { id: DEMO.defenderAlice })).body.errors).toBeUndefined();
    stack.sim.reset();
    stack.sim.revokeTokens();
    const res = await stack.gql(DefenderUsersDocument, { ids: ids("revoked", 100) });
    expect(res.body.errors).toBeUndefined();
    const authenticated = stack.sim.requests.filter((r) => r.source === "DEFENDER" && r.kind === "api" && r.status !== 401);
    expect(authenticated).toHaveLength(100);
  });

  it("keeps the retries of a small operation within its reserve: one id, a persistent 500, three attempts", async () => {
    stack.sim.inject({ target: "defender-users", kind: "status", status: 500, times: 10 });
    const res = await stack.gql(DefenderUserDocument, { id: DEMO.defenderAlice });
    expect(codes(res)).toEqual(["UPSTREAM_ERROR"]);
    expect(defenderCalls()).toBe(3);
  });

  it("still retries while the budget has room: 10 ids, 2 of them flaky, every one answered in 12 attempts", async () => {
    const list = ids("room", 10);
    for (const id of list.slice(0, 2)) stack.sim.inject({ target: "defender-users", pathIncludes: id, kind: "status", status: 503 });
    const res = await stack.gql(DefenderUsersDocument, { ids: list });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.defenderUsers).toEqual(Array(10).fill(null));
    expect(defenderCalls()).toBe(12);
  });

  it("spends the reserve and no more: 10 ids priced at 10, 5 flaky, 12 attempts, and three ids fail with Defender's own error", async () => {
    const list = ids("reserve", 10);
    for (const id of list.slice(0, 5)) stack.sim.inject({ target: "defender-users", pathIncludes: id, kind: "status", status: 500 });
    const res = await stack.gql(DefenderUsersDocument, { ids: list });
    expect(defenderCalls()).toBe(12);
    // All ten first calls go out at once (DEFENDER_CONCURRENCY 25), so only retries can be refused.
    expect([...errorsByIndex(res).values()]).toEqual(["UPSTREAM_ERROR", "UPSTREAM_ERROR", "UPSTREAM_ERROR"]);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ source: "DEFENDER", status: 500 });
  });

  it("says what the budget is when it refuses a first call", async () => {
    // Ids start as earlier ones finish (DEFENDER_CONCURRENCY 25), retries included: by the time the last
    // 25 start, the 25 retries of the first 75 have used up the budget.
    const list = ids("message", 100);
    makeFlaky(list, { status: 500 });
    const res = await stack.gql(DefenderUsersDocument, { ids: list });
    const refusal = res.body.errors?.find((e) => e.extensions?.code === "OPERATION_LIMIT_EXCEEDED");
    expect(refusal?.message).toBe(
      "This operation already made the 100 Defender for Endpoint calls its price allows (MAX_DEFENDER_COST; every attempt counts, retries included), so usergraph refused one more; ask for fewer entities in one operation.",
    );
    expect(refusal?.extensions).toEqual({ code: "OPERATION_LIMIT_EXCEEDED", source: "DEFENDER" });
  });
});
