import { BothUsersDocument } from "../__generated__/operations";
import { DEMO } from "../../src/simulator/demo-data";
import { codes, startStack, type GraphQLResponse, type Stack } from "../helpers/stack";

/**
 * Issue 18, item 2: input no schema rule forbids, yet every layer below choked on. Each must be answered
 * as the client's mistake (HTTP 400, BAD_USER_INPUT, a message naming what and where), before any vendor
 * call, and never as an internal error with a stack in the log.
 */

const LONE = "a\ud800b";
let stack: Stack;
let subgraph: Stack;

beforeAll(async () => {
  [stack, subgraph] = await Promise.all([startStack(), startStack({ FEDERATION_SUBGRAPH: "1" })]);
});
afterAll(() => Promise.all([stack.close(), subgraph.close()]));

/** Sends one request and returns its answer with the log lines it caused; checks no vendor saw anything. */
async function refused(on: Stack, send: () => Promise<GraphQLResponse<unknown>>): Promise<GraphQLResponse<unknown>> {
  on.sim.reset();
  const mark = on.logs.lines.length;
  const res = await send();
  // Work the answer abandoned would show up at the vendor after it: give it time to.
  await new Promise((r) => setTimeout(r, 200));
  expect(on.sim.requests).toEqual([]);
  const lines = on.logs.lines.slice(mark).map((l) => JSON.parse(l) as { level: number; err?: { stack?: string } });
  expect(lines.filter((l) => l.level >= 50 || l.err?.stack !== undefined)).toEqual([]);
  return res;
}

async function stillServes(on: Stack): Promise<void> {
  const ok = await on.gql(BothUsersDocument, { id: DEMO.defenderAlice, uuid: DEMO.esetAlice });
  expect(ok.body.errors).toBeUndefined();
  expect(ok.body.data?.defenderUser?.id).toBe(DEMO.defenderAlice);
}

const post = (on: Stack, query: string, variables?: unknown) => on.post(JSON.stringify({ query, variables }));

describe("a lone UTF-16 surrogate in any string a client sends", () => {
  it.each([
    ["defenderUser(id:)", "query ($v: ID!) { defenderUser(id: $v) { id } }", LONE, "v"],
    ["defenderUsers(ids:)", "query ($v: [ID!]!) { defenderUsers(ids: $v) { id } }", ["alice", LONE], "v[1]"],
    ["defenderMachine(id:)", "query ($v: ID!) { defenderMachine(id: $v) { id } }", LONE, "v"],
    ["esetUser(uuid:)", "query ($v: ID!) { esetUser(uuid: $v) { uuid } }", LONE, "v"],
    ["esetUsers(uuids:)", "query ($v: [ID!]!) { esetUsers(uuids: $v) { uuid } }", [LONE], "v[0]"],
    ["person(ref:)", "query ($v: String!) { person(ref: $v) { __typename } }", `${LONE}@contoso.com`, "v"],
    [
      "an alert filter",
      "query ($v: DefenderAlertFilter) { defenderAlerts(filter: $v) { edges { cursor } } }",
      { assignedTo: LONE },
      "v.assignedTo",
    ],
    ["an alert cursor", "query ($v: String) { defenderAlerts(after: $v) { edges { cursor } } }", LONE, "v"],
    // This one used to reach ESET, as "a\uFFFDb": URLSearchParams replaces the surrogate silently.
    ["an ESET list filter", "query ($v: EsetUserFilter) { esetUserList(filter: $v) { edges { cursor } } }", { email: LONE }, "v.email"],
    [
      "an ESET product filter",
      "query ($v: EsetUserFilter) { esetUserList(filter: $v) { edges { cursor } } }",
      { activeProduct: { name: LONE } },
      "v.activeProduct.name",
    ],
    ["an ESET list cursor", "query ($v: String) { esetUserList(after: $v) { edges { cursor } } }", LONE, "v"],
    ["a variable the operation does not declare", "{ __typename }", LONE, "v"],
  ])("in %s is refused as BAD_USER_INPUT naming the variable and where in it", async (_name, query, value, at) => {
    const res = await refused(stack, () => post(stack, query, { v: value }));
    expect(res.status).toBe(400);
    expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.body.errors?.[0]?.message).toBe(
      `Variable "$v" has text that is not well-formed Unicode (a lone UTF-16 surrogate) at "${at}"; send text as well-formed UTF-8 or UTF-16.`,
    );
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ variable: "$v", at });
    await stillServes(stack);
  });

  it("in an object key, in the variables of a GET, and in a string literal of the document", async () => {
    const key = await refused(stack, () =>
      post(stack, "query ($v: EsetUserFilter) { esetUserList(filter: $v) { edges { cursor } } }", { v: { [LONE]: "x" } }),
    );
    expect([key.status, ...codes(key)]).toEqual([400, "BAD_USER_INPUT"]);
    expect(key.body.errors?.[0]?.message).toMatch(/^Variable "\$v" has a key that is not well-formed Unicode .* at "v"/);

    const url = `${stack.gateway.url}?query=${encodeURIComponent("query ($v: ID!) { defenderUser(id: $v) { id } }")}&variables=${encodeURIComponent(JSON.stringify({ v: LONE }))}`;
    const get = await refused(stack, async () => {
      const r = await fetch(url, { headers: { "apollo-require-preflight": "1" } });
      const text = await r.text();
      return { status: r.status, headers: r.headers, body: JSON.parse(text), text };
    });
    expect([get.status, ...codes(get)]).toEqual([400, "BAD_USER_INPUT"]);

    // graphql-js's lexer refuses the escape; nothing of ours runs.
    const literal = await refused(stack, () => post(stack, '{ defenderUser(id: "a\\ud800b") { id } }'));
    expect([literal.status, ...codes(literal)]).toEqual([400, "GRAPHQL_PARSE_FAILED"]);
    expect(literal.body.errors?.[0]?.message).toContain("Invalid Unicode escape sequence");
  });

  it("keeps well-formed text outside the BMP (a surrogate pair) as it is", async () => {
    stack.sim.reset();
    const res = await post(stack, "query ($v: ID!) { defenderUser(id: $v) { id } }", { v: "emoji\u{1F600}user" });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({ defenderUser: null });
    expect(stack.sim.count({ source: "DEFENDER", kind: "api" })).toBe(1);
  });
});

describe("deeply nested input", () => {
  const deepObject = (n: number) => '{"a":'.repeat(n) + "1" + "}".repeat(n);
  const deepList = (n: number) => "[".repeat(n) + '"x"' + "]".repeat(n);

  // 20,000 levels are refused by the body's JSON bound before anything parses them (hostile.unread-bodies).
  it.each([
    ["an undeclared variable (objects)", "{ __typename }", deepObject(20_000)],
    ["a declared id list", "query ($v: [ID!]!) { defenderUsers(ids: $v) { id } }", deepList(20_000)],
  ])("in %s 20,000 deep is refused as BAD_REQUEST by the body's bound, without a stack overflow", async (_name, query, value) => {
    const res = await refused(stack, () => stack.post(`{"query":${JSON.stringify(query)},"variables":{"v":${value}}}`));
    expect(res.status).toBe(400);
    expect(codes(res)).toEqual(["BAD_REQUEST"]);
    expect(res.body.errors?.[0]?.message).toBe("The request body nests JSON deeper than 64 levels.");
    await stillServes(stack);
  });

  it.each([
    ["an undeclared variable (objects)", "{ __typename }", deepObject(60)],
    ["an undeclared variable (lists)", "{ __typename }", deepList(60)],
    ["a declared id list", "query ($v: [ID!]!) { defenderUsers(ids: $v) { id } }", deepList(60)],
    ["a declared input object", "query ($v: DefenderAlertFilter) { defenderAlerts(filter: $v) { edges { cursor } } }", deepObject(60)],
    ["one level past the limit", "{ __typename }", deepList(33)],
  ])("in %s is refused as BAD_USER_INPUT naming the variable, without a stack overflow", async (_name, query, value) => {
    const res = await refused(stack, () => stack.post(`{"query":${JSON.stringify(query)},"variables":{"v":${value}}}`));
    expect(res.status).toBe(400);
    expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.body.errors?.[0]?.message).toBe(
      'Variable "$v" nests lists or objects more than 32 deep; no input of this graph nests more than 2.',
    );
    await stillServes(stack);
  });

  it("at the limit is not refused for its depth (graphql-js then judges it against the type)", async () => {
    const res = await refused(stack, () => stack.post(`{"query":"{ __typename }","variables":{"v":${deepList(32)}}}`));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { __typename: "Query" } });
  });

  it("in a list literal of the document is a parse failure that says so, not the engine's stack message", async () => {
    const res = await refused(stack, () => post(stack, `{ defenderUsers(ids: ${deepList(2_400)}) { id } }`));
    expect(res.status).toBe(400);
    expect(codes(res)).toEqual(["GRAPHQL_PARSE_FAILED"]);
    expect(res.body.errors?.[0]?.message).toBe(
      "Syntax Error: the document nests lists or objects too deeply to parse; no input of this graph nests more than 2.",
    );
    await stillServes(stack);
  });
});

describe("_entities representations that name no entity of this subgraph", () => {
  const ENTITIES = "query ($r: [_Any!]!) { _entities(representations: $r) { ... on DefenderUser { id } ... on EsetUser { uuid } } }";
  /** Valid representations first: @apollo/subgraph used to start their lookups before it reached the bad one. */
  const valid = [
    ...Array.from({ length: 20 }, (_, i) => ({ __typename: "DefenderUser", id: `someone${i}` })),
    { __typename: "EsetUser", uuid: DEMO.esetAlice },
  ];

  it.each([
    ["an unknown __typename", { __typename: "Nope", id: "x" }, "__typename names no entity of this subgraph"],
    ["a type that is no entity", { __typename: "DefenderMachine", id: "x" }, "__typename names no entity of this subgraph"],
    ["a missing __typename", { id: "x" }, "__typename is missing"],
    ["a non-string __typename", { __typename: 5, id: "x" }, "__typename is not a string"],
    ["a representation that is no object", "DefenderUser:x", "not an object"],
  ])("refuses %s before any lookup starts: BAD_USER_INPUT naming the entry", async (_name, bad, problem) => {
    const res = await refused(subgraph, () => post(subgraph, ENTITIES, { r: [...valid, bad] }));
    expect(res.status).toBe(400);
    expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.body.data).toBeNull();
    expect(res.body.errors?.[0]?.path).toEqual(["_entities"]);
    expect(res.body.errors?.[0]?.message).toBe(
      `Invalid entity representations: representations[21]: ${problem}. Each is an object whose __typename is DefenderUser or EsetUser; no entity was looked up.`,
    );
    expect(res.body.errors?.[0]?.extensions?.validationErrors).toEqual([{ argument: "representations[21]", problems: [problem] }]);
    await stillServes(subgraph);
  });

  it("names every bad entry (the first three in the message), never echoing one", async () => {
    const bad = [{ __typename: "Secret-Type-Name" }, { id: "x" }, { __typename: "Query" }, { __typename: ["DefenderUser"] }];
    const res = await refused(subgraph, () => post(subgraph, ENTITIES, { r: [valid[0], ...bad] }));
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.message).toMatch(
      /^Invalid entity representations: representations\[1\]: .*representations\[3\]: [^;]*; and 1 more\. Each is/,
    );
    expect((res.body.errors?.[0]?.extensions?.validationErrors as unknown[]).length).toBe(4);
    expect(res.text).not.toContain("Secret-Type-Name");
  });
});
