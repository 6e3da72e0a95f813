import { createServer } from "node:http";
import { DEMO } from "../../src/simulator/demo-data";
import { codes, startStack, type GraphQLResponse, type Stack } from "../helpers/stack";

/**
 * Every top-level Query field is nullable, so one field's failure (its source down, a refused argument,
 * a missing scope) nulls that field alone, with an error whose path names it; the rest of the request
 * still answers. Over HTTP, against the simulator.
 */

interface Partial {
  defenderUser: { id: string } | null;
  defenderUsers: Array<{ id: string } | null> | null;
  esetUser: { uuid: string } | null;
  esetUsers: Array<{ uuid: string } | null> | null;
  esetUserList: { totalCount: number | null; edges: Array<{ node: { uuid: string } }> } | null;
}

const ask = (stack: Stack, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  stack.post(JSON.stringify({ query, variables }), headers) as Promise<GraphQLResponse<Partial>>;

const paths = (res: GraphQLResponse<unknown>) => (res.body.errors ?? []).map((e) => (e.path ?? []).join("."));

describe("ESET unreachable", () => {
  let stack: Stack;
  beforeAll(async () => {
    const port = await closedPort();
    stack = await startStack({ ESET_API_URL: `http://127.0.0.1:${port}`, ESET_TOKEN_URL: `http://127.0.0.1:${port}/oauth/token` });
  });
  afterAll(() => stack.close());

  it("keeps the Defender field and nulls only the ESET list, with its error", async () => {
    const res = await ask(
      stack,
      `query ($id: ID!) { defenderUser(id: $id) { id } esetUserList(first: 5) { totalCount edges { node { uuid } } } }`,
      { id: DEMO.defenderAlice },
    );
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ defenderUser: { id: DEMO.defenderAlice }, esetUserList: null });
    expect(paths(res)).toEqual(["esetUserList"]);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: "UPSTREAM_UNREACHABLE", source: "ESET" });
  });

  it("keeps Defender's list next to a failing esetUsers", async () => {
    const res = await ask(
      stack,
      `query ($ids: [ID!]!, $uuids: [ID!]!) { defenderUsers(ids: $ids) { id } esetUsers(uuids: $uuids) { uuid } }`,
      { ids: [DEMO.defenderAlice], uuids: [DEMO.esetAlice] },
    );
    expect(res.body.data?.defenderUsers).toEqual([{ id: DEMO.defenderAlice }]);
    expect(res.body.data?.esetUsers).toEqual([null]);
    expect(codes(res)).toEqual(["UPSTREAM_UNREACHABLE"]);
  });
});

describe("a refused argument next to a good field", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.sim.reset()); // each test counts only its own calls

  it("nulls esetUsers(uuids: []) alone and answers defenderUser", async () => {
    const res = await ask(stack, `query ($id: ID!) { defenderUser(id: $id) { id } esetUsers(uuids: []) { uuid } }`, {
      id: DEMO.defenderAlice,
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ defenderUser: { id: DEMO.defenderAlice }, esetUsers: null });
    expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
    expect(paths(res)).toEqual(["esetUsers"]);
    expect(stack.sim.count({ source: "ESET", kind: "api" })).toBe(0);
  });

  it("nulls defenderUsers(ids: []) and esetUserList(first: -1) alone and answers esetUser", async () => {
    const res = await ask(
      stack,
      `query ($uuid: ID!) { defenderUsers(ids: []) { id } esetUserList(first: -1) { totalCount } esetUser(uuid: $uuid) { uuid } }`,
      {
        uuid: DEMO.esetAlice,
      },
    );
    expect(res.body.data).toEqual({ defenderUsers: null, esetUserList: null, esetUser: { uuid: DEMO.esetAlice } });
    expect(codes(res)).toEqual(["BAD_USER_INPUT", "BAD_USER_INPUT"]);
    expect(paths(res).sort()).toEqual(["defenderUsers", "esetUserList"]);
  });
});

describe("a missing scope on a list field", () => {
  const DEFENDER_ONLY = "partial-defender-only-key-3c9e2a71";
  const ESET_ONLY = "partial-eset-only-key-7b1d4f08";
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ AUTH_MODE: "", AUTH_API_KEYS: `${DEFENDER_ONLY}=defender:users:read,${ESET_ONLY}=eset:users:read` });
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.sim.reset()); // each test counts only its own calls

  it("nulls esetUserList and esetUsers for a Defender-only key and answers its Defender list", async () => {
    const res = await ask(
      stack,
      `query ($ids: [ID!]!, $uuids: [ID!]!) { defenderUsers(ids: $ids) { id } esetUsers(uuids: $uuids) { uuid } esetUserList(first: 2) { totalCount } }`,
      { ids: [DEMO.defenderAlice], uuids: [DEMO.esetAlice] },
      { "x-api-key": DEFENDER_ONLY },
    );
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ defenderUsers: [{ id: DEMO.defenderAlice }], esetUsers: null, esetUserList: null });
    expect(codes(res)).toEqual(["FORBIDDEN", "FORBIDDEN"]);
    expect(paths(res).sort()).toEqual(["esetUserList", "esetUsers"]);
    expect(stack.sim.count({ source: "ESET", kind: "api" })).toBe(0);
  });

  it("nulls defenderUsers for an ESET-only key and answers its ESET list", async () => {
    const res = await ask(
      stack,
      `{ defenderUsers(ids: ["alice"]) { id } esetUserList(first: 2) { edges { node { uuid } } } }`,
      {},
      { "x-api-key": ESET_ONLY },
    );
    expect(res.body.data?.defenderUsers).toBeNull();
    expect(res.body.data?.esetUserList?.edges).toHaveLength(2);
    expect(codes(res)).toEqual(["FORBIDDEN"]);
    expect(paths(res)).toEqual(["defenderUsers"]);
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
