import { startStack, type Stack } from "../helpers/stack";

/**
 * The attacker's review of issue 11: attacks that got *around* client auth or the operation limits of a
 * production-posture gateway on loopback. Each test states what must hold; each failed when written.
 */
const KEY = "review-suite-key-7e3a9c1d5b2f";
const OTHER = "review-suite-other-key-1f8b2d6e4a";
let stack: Stack;
let subgraph: Stack;

beforeAll(async () => {
  [stack, subgraph] = await Promise.all([
    startStack({ NODE_ENV: "production", AUTH_MODE: "", AUTH_API_KEYS: `${KEY},${OTHER}`, AUTH_FAILURE_LIMIT: "5/60s" }),
    startStack({ NODE_ENV: "production", AUTH_MODE: "", AUTH_API_KEYS: KEY, FEDERATION_SUBGRAPH: "1" }),
  ]);
});
afterAll(() => Promise.all([stack.close(), subgraph.close()]));

const auth = { "x-api-key": KEY };
const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `"${prefix}${i}"`).join(",");
/** Three lists of 100 distinct Defender ids: 300 Defender GETs, three times MAX_DEFENDER_COST (100). */
const EXPENSIVE = `a: defenderUsers(ids: [${ids("a", 100)}]) { id } b: defenderUsers(ids: [${ids("b", 100)}]) { id } c: defenderUsers(ids: [${ids("c", 100)}]) { id }`;

describe("the vendor-call price", () => {
  it("control: the expensive operation alone is refused before any vendor call", async () => {
    stack.sim.reset();
    const res = await stack.post(JSON.stringify({ query: `{ ${EXPENSIVE} }` }), auth);
    expect(res.body.errors?.[0]?.extensions?.code).toBe("OPERATION_LIMIT_EXCEEDED");
    expect(stack.sim.count({ source: "DEFENDER", kind: "api" })).toBe(0);
  });

  it("still prices an operation when one root field gets null for a non-null argument through a defaulted variable", async () => {
    // `$n: ID = "x"` may stand in an `ID!` position; an explicit null then fails only that field at execution,
    // but makes the cost walk throw 'Argument "id" of non-null type "ID!" must not be null.', which
    // operation-limits.ts takes for a coercion error graphql-js will answer, and skips the price entirely.
    stack.sim.reset();
    const query = `query Poison($n: ID = "x") { poison: defenderUser(id: $n) { id } ${EXPENSIVE} }`;
    const res = await stack.post(JSON.stringify({ query, variables: { n: null } }), auth);
    expect(stack.sim.count({ source: "DEFENDER", kind: "api" })).toBe(0);
    expect(res.body.errors?.[0]?.extensions?.code).toBe("OPERATION_LIMIT_EXCEEDED");
  });

  it("still prices federation _entities when a poisoned field rides along (subgraph mode)", async () => {
    subgraph.sim.reset();
    const reps = Array.from({ length: 100 }, (_, i) => `{__typename: "EsetUser", uuid: "u${i}"}`).join(",");
    // Each EsetUser's defenderUsers may cost 8 Defender GETs: 800 worst case, refused when priced.
    const query = `query Poison($n: ID = "x") { poison: defenderUser(id: $n) { id } _entities(representations: [${reps}]) { ... on EsetUser { defenderUsers { id } } } }`;
    const res = await subgraph.post(JSON.stringify({ query, variables: { n: null } }), auth);
    expect(subgraph.sim.count({ kind: "api" })).toBe(0);
    expect(res.body.errors?.[0]?.extensions?.code).toBe("OPERATION_LIMIT_EXCEEDED");
  });
});

describe("the vendor-call price, against what the vendors see", () => {
  it("makes no more vendor calls than the price it let through (esetUsers with unknown uuids)", async () => {
    // Priced at n + ceil(log2 n) + 1 (sources/eset/prices.ts), the most the loader's bisection budget spends; it
    // used to be priced at n while the splitting spent 2n − 1.
    stack.sim.reset();
    const res = await stack.post(JSON.stringify({ query: `{ esetUsers(uuids: [${ids("nobody-", 1000)}]) { uuid } }` }), auth);
    const calls = stack.sim.count({ source: "ESET", kind: "api" });
    const refused = res.body.errors?.[0]?.extensions?.code === "OPERATION_LIMIT_EXCEEDED";
    // 1000 uuids are priced 1011 ≤ MAX_COST (1100), so they pass; the vendor must see no more than that.
    expect(refused).toBe(false);
    expect(calls).toBeLessThanOrEqual(1000 + Math.ceil(Math.log2(1000)) + 1);
  });
});

describe("the failed-authentication throttle behind the documented TLS proxy (README: put it behind a proxy)", () => {
  let proxied: Stack;
  beforeAll(async () => {
    // TRUST_PROXY is the setting this test asks for (no such setting exists yet): which hop's
    // X-Forwarded-For to believe. Without one, every client behind the proxy is one address.
    proxied = await startStack({
      NODE_ENV: "production",
      AUTH_MODE: "",
      AUTH_API_KEYS: KEY,
      AUTH_FAILURE_LIMIT: "5/60s",
      TRUST_PROXY: "127.0.0.1",
    });
  });
  afterAll(() => proxied.close());

  it("does not let one client's wrong keys lock every other client (and its good key) out", async () => {
    const body = JSON.stringify({ query: "{ __typename }" });
    for (let i = 0; i < 6; i++)
      await proxied.post(body, { "x-api-key": `attacker-guess-${i}-long-enough`, "x-forwarded-for": "203.0.113.66" });
    const victim = await proxied.post(body, { "x-api-key": KEY, "x-forwarded-for": "198.51.100.7" });
    expect(victim.status).toBe(200);
    expect(victim.body.data).toEqual({ __typename: "Query" });
  });
});
