import { DefenderUserDocument } from "../__generated__/operations";
import { DEMO } from "../../src/simulator/demo-data";
import { codes, startStack, type Stack } from "../helpers/stack";

/**
 * Class 3 of the hostile suite, the request side: one caller flooding the gateway, and one address
 * guessing credentials. (The vendor-quota side of fairness, one caller emptying a vendor's budget, is
 * hostile.quota.test.ts.) Counted per caller, with the IETF RateLimit headers and Retry-After.
 */
const A = "flood-caller-a-key-2b7e9d4c1f";
const B = "flood-caller-b-key-8a3c6e0d5b";
const C = "flood-caller-c-key-5d1f7a9e3b";
let stack: Stack;

/**
 * Each describe gets a gateway of its own: the guessing test leaves the loopback address refused for a
 * minute, and a flood leaves its caller's budget spent.
 */
function ownStack(): void {
  beforeAll(async () => {
    stack = await startStack({ AUTH_MODE: "", AUTH_API_KEYS: `${A},${B},${C}`, CALLER_RATE_LIMIT: "20/10s", AUTH_FAILURE_LIMIT: "5/60s" });
  });
  afterAll(() => stack.close());
}

const one = (key: string) => stack.gql(DefenderUserDocument, { id: DEMO.defenderAlice }, { "x-api-key": key });

describe("requests per caller (CALLER_RATE_LIMIT)", () => {
  ownStack();

  it("answers a caller's requests past its limit with 429, Retry-After and RateLimit headers, without calling a vendor", async () => {
    const first = await one(A);
    expect(first.status).toBe(200);
    expect(first.headers.get("ratelimit-limit")).toBe("20");
    expect(Number(first.headers.get("ratelimit-remaining"))).toBe(19);
    const burst = await Promise.all(Array.from({ length: 40 }, () => one(A)));
    const refused = burst.filter((r) => r.status === 429);
    expect(refused).toHaveLength(21);
    stack.sim.reset();
    const more = await one(A);
    expect(more.status).toBe(429);
    expect(codes(more)).toEqual(["RATE_LIMITED"]);
    expect(more.body.errors?.[0]?.extensions).toMatchObject({ limit: "CALLER_RATE_LIMIT" });
    const retryAfter = Number(more.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(10);
    expect(more.headers.get("ratelimit-remaining")).toBe("0");
    expect(stack.sim.requests).toEqual([]);
  });

  it("does not let one caller's flood spend another caller's requests", async () => {
    const flood = await Promise.all(Array.from({ length: 30 }, () => one(C)));
    expect(flood.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(10);
    const other = await one(B);
    expect(other.status).toBe(200);
    expect(other.body.data?.defenderUser?.id).toBe(DEMO.defenderAlice);
    expect(Number(other.headers.get("ratelimit-remaining"))).toBe(19);
  });
});

describe("failed authentication per address (AUTH_FAILURE_LIMIT)", () => {
  ownStack();

  it("answers 401 with the reason until the address has failed 5 times, then 429 even for a good key", async () => {
    const bad = { "x-api-key": "a-wrong-key-that-is-long-enough" };
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await stack.gql(DefenderUserDocument, { id: DEMO.defenderAlice }, bad)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    const guessed = await stack.gql(DefenderUserDocument, { id: DEMO.defenderAlice }, { "x-api-key": B });
    expect(guessed.status).toBe(429);
    expect(guessed.body.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", limit: "AUTH_FAILURE_LIMIT" });
    expect(Number(guessed.headers.get("retry-after"))).toBeGreaterThan(1);
  });
});
