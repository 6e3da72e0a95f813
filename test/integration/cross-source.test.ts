import { DEMO } from "../../src/simulator/demo-data";
import type { FaultTarget } from "../../src/simulator/faults";
import { startStack, type GraphQLResponse, type Stack } from "../helpers/stack";

/**
 * Every field that reaches the other vendor is nullable and fails alone (issue 22; DESIGN.md "every
 * relation field is nullable and fails alone"): with that vendor down, the field is null with one error
 * whose path names it and whose code says why, and the parent's own fields still answer. One test per
 * such field, over HTTP against the simulator, the other vendor dropping every connection ("reset").
 */

const DAY = 86_400_000;
const since = new Date(Date.now() - 30 * DAY).toISOString();

let plain: Stack;
let cached: Stack;
beforeAll(async () => {
  [plain, cached] = await Promise.all([
    startStack(),
    // Keeps the listings (and prices a page of people with every link field above the default limits).
    startStack({ CACHE_TTL_SECONDS: "60", MAX_DEFENDER_COST: "100000", MAX_COST: "100000" }),
  ]);
});
afterAll(() => Promise.all([plain.close(), cached.close()]));
beforeEach(() => [plain, cached].forEach((s) => s.sim.reset()));

/** The vendor drops every connection from now on (until the next test's reset): usergraph cannot reach it. */
const down = (stack: Stack, target: FaultTarget) => stack.sim.inject({ target, kind: "reset", times: 100_000 });

const ask = (stack: Stack, query: string, variables: Record<string, unknown> = {}) =>
  stack.post(JSON.stringify({ query, variables })) as Promise<GraphQLResponse<any>>;

/** The errors as "path: CODE/SOURCE", sorted. */
const errorsOf = (res: GraphQLResponse<unknown>) =>
  (res.body.errors ?? []).map((e) => `${(e.path ?? []).join(".")}: ${String(e.extensions?.code)}/${String(e.extensions?.source)}`).sort();

describe("ESET unreachable: the Defender side answers", () => {
  it("DefenderUser.esetUsers: null alone, the account's own fields kept", async () => {
    down(plain, "eset");
    const res = await ask(plain, `query ($id: ID!) { defenderUser(id: $id) { id accountName esetUsers { uuid } } }`, {
      id: DEMO.defenderAlice,
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ defenderUser: { id: DEMO.defenderAlice, accountName: "alice", esetUsers: null } });
    expect(errorsOf(res)).toEqual(["defenderUser.esetUsers: UPSTREAM_UNREACHABLE/ESET"]);
  });

  it("DefenderUser.esetLinks: null alone, the account's own fields kept", async () => {
    down(plain, "eset");
    const res = await ask(plain, `query ($id: ID!) { defenderUser(id: $id) { id accountName esetLinks { strongestRule } } }`, {
      id: DEMO.defenderAlice,
    });
    expect(res.body.data).toEqual({ defenderUser: { id: DEMO.defenderAlice, accountName: "alice", esetLinks: null } });
    expect(errorsOf(res)).toEqual(["defenderUser.esetLinks: UPSTREAM_UNREACHABLE/ESET"]);
  });

  it("DefenderUser.esetUsers in a list: only that entry's field is null, the list and its accounts kept", async () => {
    down(plain, "eset");
    const res = await ask(plain, `query ($ids: [ID!]!) { defenderUsers(ids: $ids) { id esetUsers { uuid } } }`, {
      ids: [DEMO.defenderAlice, DEMO.defenderUser1],
    });
    expect(res.body.data).toEqual({
      defenderUsers: [
        { id: DEMO.defenderAlice, esetUsers: null },
        { id: DEMO.defenderUser1, esetUsers: null },
      ],
    });
    expect(errorsOf(res)).toEqual([
      "defenderUsers.0.esetUsers: UPSTREAM_UNREACHABLE/ESET",
      "defenderUsers.1.esetUsers: UPSTREAM_UNREACHABLE/ESET",
    ]);
  });

  it("Person.esetUsers and Person.links: null alone, Person.defenderUsers kept", async () => {
    down(plain, "eset");
    const res = await ask(
      plain,
      `query ($ref: String!) { person(ref: $ref) { ref defenderUsers { id } esetUsers { uuid } links { strongestRule } } }`,
      {
        ref: DEMO.defenderAlice,
      },
    );
    expect(res.body.data).toEqual({
      person: { ref: DEMO.defenderAlice, defenderUsers: [{ id: DEMO.defenderAlice }], esetUsers: null, links: null },
    });
    expect(errorsOf(res)).toEqual(["person.esetUsers: UPSTREAM_UNREACHABLE/ESET", "person.links: UPSTREAM_UNREACHABLE/ESET"]);
  });
});

describe("Defender unreachable: the ESET side answers", () => {
  it("EsetUser.defenderUsers: null alone, the user's own fields kept", async () => {
    down(plain, "defender");
    const res = await ask(plain, `query ($uuid: ID!) { esetUser(uuid: $uuid) { uuid displayName defenderUsers { id } } }`, {
      uuid: DEMO.esetAlice,
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ esetUser: { uuid: DEMO.esetAlice, displayName: "Alice Example", defenderUsers: null } });
    expect(errorsOf(res)).toEqual(["esetUser.defenderUsers: UPSTREAM_UNREACHABLE/DEFENDER"]);
  });

  it("EsetUser.defenderLinks: null alone, the user's own fields kept", async () => {
    down(plain, "defender");
    const res = await ask(plain, `query ($uuid: ID!) { esetUser(uuid: $uuid) { uuid displayName defenderLinks { strongestRule } } }`, {
      uuid: DEMO.esetAlice,
    });
    expect(res.body.data).toEqual({ esetUser: { uuid: DEMO.esetAlice, displayName: "Alice Example", defenderLinks: null } });
    expect(errorsOf(res)).toEqual(["esetUser.defenderLinks: UPSTREAM_UNREACHABLE/DEFENDER"]);
  });

  it("EsetUser.defenderUsers in a page: the edge's node and the page kept", async () => {
    down(plain, "defender");
    const res = await ask(plain, `{ esetUserList(first: 2) { totalCount edges { cursor node { uuid defenderUsers { id } } } } }`);
    const edges = res.body.data.esetUserList.edges as Array<{ node: { uuid: string; defenderUsers: unknown } | null }>;
    expect(edges).toHaveLength(2);
    for (const edge of edges) expect(edge.node).toEqual({ uuid: expect.any(String), defenderUsers: null });
    expect(errorsOf(res)).toEqual([
      "esetUserList.edges.0.node.defenderUsers: UPSTREAM_UNREACHABLE/DEFENDER",
      "esetUserList.edges.1.node.defenderUsers: UPSTREAM_UNREACHABLE/DEFENDER",
    ]);
  });

  it("Person.defenderUsers and Person.links: null alone, Person.esetUsers kept", async () => {
    down(plain, "defender");
    const res = await ask(
      plain,
      `query ($ref: String!) { person(ref: $ref) { ref defenderUsers { id } esetUsers { uuid } links { strongestRule } } }`,
      {
        ref: "alice@contoso.com",
      },
    );
    expect(res.body.data).toEqual({
      person: { ref: "alice@contoso.com", defenderUsers: null, esetUsers: [{ uuid: DEMO.esetAlice }], links: null },
    });
    expect(errorsOf(res)).toEqual(["person.defenderUsers: UPSTREAM_UNREACHABLE/DEFENDER", "person.links: UPSTREAM_UNREACHABLE/DEFENDER"]);
  });

  it("UserLink.defenderUser.esetUsers (a link's far side asked back): null alone, the link and the account kept", async () => {
    // ESET answers the user by uuid but drops its e-mail searches, which DefenderUser.esetUsers makes.
    plain.sim.inject({ target: "eset", pathIncludes: "email=", kind: "reset", times: 100_000 });
    const res = await ask(
      plain,
      `query ($uuid: ID!) { esetUser(uuid: $uuid) { uuid defenderLinks { strongestRule defenderUser { id accountName esetUsers { uuid } } } } }`,
      { uuid: DEMO.esetAlice },
    );
    expect(res.body.data).toEqual({
      esetUser: {
        uuid: DEMO.esetAlice,
        defenderLinks: [{ strongestRule: "DOMAIN_USER", defenderUser: { id: DEMO.defenderAlice, accountName: "alice", esetUsers: null } }],
      },
    });
    expect(errorsOf(res)).toEqual(["esetUser.defenderLinks.0.defenderUser.esetUsers: UPSTREAM_UNREACHABLE/ESET"]);
  });
});

describe("peopleAtRisk, its listings kept, the other vendor then down", () => {
  const query = `query ($since: DateTime!) { peopleAtRisk(since: $since, first: 50) { totalCount edges { node {
      defender { id alertCount user { id } } weakestProtection esetUsers { uuid displayName defenderUsers { id } } } } } }`;
  /** Both listings read and kept (CACHE_TTL_SECONDS=60), nothing else selected: the join needs no call. */
  const warm = async () => {
    const res = await ask(cached, `query ($since: DateTime!) { peopleAtRisk(since: $since, first: 50) { totalCount } }`, { since });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.peopleAtRisk.totalCount).toBeGreaterThan(0);
  };
  type Node = {
    defender: { id: string; alertCount: number; user: unknown };
    weakestProtection: string | null;
    esetUsers: Array<{ uuid: string; displayName: string; defenderUsers: unknown }>;
  };

  it("PersonRisk.esetUsers[].defenderUsers and PersonRisk.defender.user: null alone, the join kept", async () => {
    await warm();
    down(cached, "defender");
    const res = await ask(cached, query, { since });
    const nodes = (res.body.data.peopleAtRisk.edges as Array<{ node: Node }>).map((e) => e.node);
    const alice = nodes.find((n) => n.defender.id === DEMO.defenderAlice)!;
    expect(alice).toMatchObject({
      defender: { id: DEMO.defenderAlice, user: null },
      esetUsers: [{ uuid: DEMO.esetAlice, displayName: "Alice Example", defenderUsers: null }],
    });
    expect(alice.defender.alertCount).toBeGreaterThan(0);
    const i = nodes.indexOf(alice);
    const errors = errorsOf(res);
    expect(errors).toContain(`peopleAtRisk.edges.${i}.node.esetUsers.0.defenderUsers: UPSTREAM_UNREACHABLE/DEFENDER`);
    expect(errors).toContain(`peopleAtRisk.edges.${i}.node.defender.user: UPSTREAM_UNREACHABLE/DEFENDER`);
    // Every error is one of these two fields of some person: nothing above them failed.
    for (const e of errors)
      expect(e).toMatch(/^peopleAtRisk\.edges\.\d+\.node\.(esetUsers\.\d+\.defenderUsers|defender\.user): UPSTREAM_UNREACHABLE\/DEFENDER$/);
  });

  it("PersonRisk.esetUsers[].defenderUsers with only Defender's user lookups down: the rest of the person answers", async () => {
    await warm();
    down(cached, "defender-users");
    const res = await ask(cached, query, { since });
    const nodes = (res.body.data.peopleAtRisk.edges as Array<{ node: Node }>).map((e) => e.node);
    const alice = nodes.find((n) => n.defender.id === DEMO.defenderAlice)!;
    expect(alice.esetUsers).toEqual([{ uuid: DEMO.esetAlice, displayName: "Alice Example", defenderUsers: null }]);
    expect(alice.weakestProtection).not.toBeNull();
  });
});
