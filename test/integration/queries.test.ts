import {
  BothUsersDocument,
  DefenderUserDocument,
  DefenderUsersDocument,
  EsetUserDocument,
  EsetUsersDocument,
  SameIdsManyWaysDocument,
} from "../__generated__/operations";
import { DEMO } from "../../src/simulator/demo-data";
import { codes, startStack, type Stack } from "../helpers/stack";

let stack: Stack;
beforeAll(async () => {
  // Lists longer than the default MAX_ESET_IDS, to see the loader cut batches at ESET's 1000.
  stack = await startStack({ DEFENDER_CONCURRENCY: "4", MAX_ESET_IDS: "5000", MAX_COST: "1000000" }, { extraEsetUsers: 2500 });
});
afterAll(() => stack.close());
beforeEach(() => stack.sim.reset());

describe("queries against the simulator", () => {
  it("answers the README's first example from demo data", async () => {
    const res = await stack.gql(BothUsersDocument, { id: DEMO.defenderAlice, uuid: DEMO.esetAlice });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({
      defenderUser: { id: "contoso\\alice", logonTypes: ["Network", "RemoteInteractive"] },
      esetUser: { displayName: "Alice Example", identities: [{ providerType: "MICROSOFT" }, { providerType: "LOCAL" }] },
    });
  });

  it("returns null and no error when Defender answers 404", async () => {
    const res = await stack.gql(DefenderUserDocument, { id: "nobody-here" });
    expect(res.body).toEqual({ data: { defenderUser: null } });
    expect(stack.sim.count({ source: "DEFENDER", kind: "api" })).toBe(1);
  });

  it('answers tenant(id: "default") in a single-tenant deployment within the operation\'s price, as the root field does', async () => {
    // The process's sender serves the one tenant: its calls count against the share tenant(id:) names
    // (with the root fields' share at 0 here, they were once refused OPERATION_LIMIT_EXCEEDED).
    const query = `query ($id: ID!) { t: tenant(id: "default") { id defenderUser(id: $id) { id } } }`;
    const res = await stack.post(JSON.stringify({ query, variables: { id: DEMO.defenderAlice } }));
    expect(res.body).toEqual({ data: { t: { id: "default", defenderUser: { id: DEMO.defenderAlice } } } });
    expect(stack.sim.count({ source: "DEFENDER", kind: "api" })).toBe(1);
  });

  it("returns null and no error when ESET answers 404", async () => {
    const res = await stack.gql(EsetUserDocument, { uuid: "0000dead-0000-4000-8000-000000000000" });
    expect(res.body).toEqual({ data: { esetUser: null } });
  });

  it("fetches an id asked through aliases and lists once per source", async () => {
    const res = await stack.gql(SameIdsManyWaysDocument, { id: DEMO.defenderAlice, uuid: DEMO.esetAlice });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.list).toEqual([{ id: DEMO.defenderAlice }, { id: DEMO.defenderAlice }]);
    expect(res.body.data?.eset2).toEqual([{ uuid: DEMO.esetAlice }, { uuid: DEMO.esetAlice }]);
    expect(stack.sim.count({ source: "DEFENDER", kind: "api" })).toBe(1);
    expect(stack.sim.count({ source: "ESET", kind: "api" })).toBe(1);
  });

  it("sends one GET per distinct Defender id, in order, with bounded concurrency", async () => {
    stack.sim.latencyMs = 20;
    const ids = [...stack.sim.defenderUsers.keys()].slice(0, 12);
    const res = await stack.gql(DefenderUsersDocument, { ids: [...ids, ids[0]!, "missing-user"] });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.defenderUsers?.map((u) => u?.id ?? null)).toEqual([...ids, ids[0], null]);
    expect(stack.sim.count({ source: "DEFENDER", kind: "api" })).toBe(13);
    expect(stack.sim.peakInFlight.DEFENDER).toBeLessThanOrEqual(4);
    expect(stack.sim.peakInFlight.DEFENDER).toBeGreaterThan(1);
  });

  it("sends one batchGetUsers call for several esetUser fields and lists", async () => {
    const uuids = [...stack.sim.esetUsers.keys()].slice(0, 30);
    const res = await stack.gql(EsetUsersDocument, { uuids });
    expect(res.body.data?.esetUsers?.map((u) => u?.uuid)).toEqual(uuids);
    expect(stack.sim.count({ source: "ESET", kind: "api" })).toBe(1);
    expect(stack.sim.count({ source: "ESET", pathIncludes: "batchGetUsers" })).toBe(1);
  });

  it("chunks ESET batches at 1000 uuids", async () => {
    const uuids = [...stack.sim.esetUsers.keys()].slice(0, 2500);
    const res = await stack.gql(EsetUsersDocument, { uuids });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.esetUsers).toHaveLength(2500);
    expect(res.body.data?.esetUsers?.every((u, i) => u?.uuid === uuids[i])).toBe(true);
    const batches = stack.sim.requests.filter((r) => r.path.includes("batchGetUsers"));
    expect(batches.map((r) => (JSON.parse(r.body) as { usersUuids: string[] }).usersUuids.length)).toEqual([1000, 1000, 500]);
  });

  it("resolves every known uuid of an atomic batch that contains unknown ones, nulling only those", async () => {
    const known = [...stack.sim.esetUsers.keys()].slice(0, 14);
    const uuids = [...known.slice(0, 5), "unknown-1", ...known.slice(5), "unknown-2"];
    const res = await stack.gql(EsetUsersDocument, { uuids });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.esetUsers?.map((u) => u?.uuid ?? null)).toEqual(uuids.map((u) => (u.startsWith("unknown") ? null : u)));
    // One failed batch of 16, then bisection: far fewer calls than one GET per uuid.
    const calls = stack.sim.count({ source: "ESET", kind: "api" });
    expect(calls).toBeGreaterThan(1);
    expect(calls).toBeLessThan(uuids.length);
  });

  it("encodes ids so that backslashes, spaces and unicode reach Defender as one path segment", async () => {
    const res = await stack.gql(DefenderUsersDocument, { ids: ["contoso\\alice", "名前", "x..", "o'brien j", "a%2Fb"] });
    expect(res.body.errors).toBeUndefined();
    const paths = stack.sim.requests
      .filter((r) => r.kind === "api")
      .map((r) => r.path)
      .sort();
    expect(paths).toEqual(
      [
        "/api/users/contoso%5Calice",
        "/api/users/%E5%90%8D%E5%89%8D",
        "/api/users/x..",
        "/api/users/o'brien%20j",
        "/api/users/a%252Fb",
      ].sort(),
    );
    const ids = stack.sim.requests
      .filter((r) => r.kind === "api")
      .map((r) => r.id)
      .sort();
    expect(ids).toEqual(["contoso\\alice", "名前", "x..", "o'brien j", "a%2Fb"].sort());
  });

  it.each(["..", "../x", "a/../b", "contoso\\alice\\x"])("refuses the path-like id %j before any call", async (id) => {
    const res = await stack.gql(DefenderUserDocument, { id });
    expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
    expect(stack.sim.requests).toHaveLength(0);
  });

  it("nulls only the failing source when the other one works", async () => {
    stack.sim.inject({ target: "defender", kind: "status", status: 500, times: 10 });
    const res = await stack.gql(BothUsersDocument, { id: DEMO.defenderAlice, uuid: DEMO.esetAlice });
    expect(res.status).toBe(200);
    expect(res.body.data?.defenderUser).toBeNull();
    expect(res.body.data?.esetUser?.displayName).toBe("Alice Example");
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors?.[0]?.path).toEqual(["defenderUser"]);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({
      code: "UPSTREAM_ERROR",
      source: "DEFENDER",
      status: 500,
      upstreamCode: "InternalServerError",
    });
  });

  it("nulls only the failing entry of a list, with an error whose path names the index", async () => {
    stack.sim.inject({ target: "defender", kind: "status", status: 403, pathIncludes: "fabrikam%5Cbob" });
    const res = await stack.gql(DefenderUsersDocument, { ids: [DEMO.defenderAlice, "fabrikam\\bob", DEMO.defenderUser1] });
    expect(res.body.data?.defenderUsers?.map((u) => u?.id ?? null)).toEqual([DEMO.defenderAlice, null, DEMO.defenderUser1]);
    expect(res.body.errors?.map((e) => e.path)).toEqual([["defenderUsers", 1]]);
    expect(codes(res)).toEqual(["UPSTREAM_FORBIDDEN"]);
  });

  it("returns the caller's x-request-id, or a generated one", async () => {
    const given = await stack.gql(DefenderUserDocument, { id: "user1" }, { "x-request-id": "dash-42" });
    expect(given.headers.get("x-request-id")).toBe("dash-42");
    const generated = await stack.gql(DefenderUserDocument, { id: "user1" });
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
