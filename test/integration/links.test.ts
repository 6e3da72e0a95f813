import { print } from "graphql";
import {
  DefenderUserLinksDocument,
  DefenderUsersDocument,
  EsetUserLinksDocument,
  LinkedUsersDocument,
  UnprotectedWithDefenderDocument,
} from "../__generated__/operations";
import { DEMO } from "../../src/simulator/demo-data";
import { startSimulator, type Simulator } from "../../src/simulator/simulator";
import { codes, startGatewayOn, startStack, type Stack } from "../helpers/stack";

const defenderIdsAsked = (sim: Simulator) => sim.requests.filter((r) => r.source === "DEFENDER" && r.kind === "api").map((r) => r.id);
const searches = (sim: Simulator) =>
  sim.requests
    .filter((r) => r.source === "ESET" && r.path.startsWith("/v1/users?"))
    .map((r) => new URLSearchParams(r.path.split("?")[1]).get("email"));

let stack: Stack;
beforeAll(async () => {
  // A page of 50 users with links may make 400 Defender calls in the worst case: over the default MAX_DEFENDER_COST.
  stack = await startStack({ MAX_DEFENDER_COST: "1000" });
});
afterAll(() => stack.close());
beforeEach(() => stack.sim.reset());

describe("EsetUser → Defender links", () => {
  it.each([
    ["a DOMAIN\\user identity, a UPN and the primary address", DEMO.esetAlice, [["contoso\\alice", ["DOMAIN_USER", "UPN", "EMAIL"]]]],
    [
      "a UPN, to the domain account and to the bare name",
      DEMO.esetUserOne,
      [
        ["contoso\\user1", ["UPN", "EMAIL"]],
        ["user1", ["BARE_USER_NAME"]],
      ],
    ],
    ["the near miss user10, to its own account only", DEMO.esetUserTen, [["contoso\\user10", ["UPN", "EMAIL"]]]],
    ["an alias (proxy address) naming a legacy logon", DEMO.esetCarol, [["fabrikam\\cjones", ["EMAIL"]]]],
    ["a CORP\\dmiller identity whose NetBIOS name is not the mail domain's", DEMO.esetDave, [["corp\\dmiller", ["DOMAIN_USER"]]]],
    // The identity and the primary address are the same address: one reason, not two.
    ["an EMAIL_ADDRESS identity (Google)", DEMO.esetBob, [["fabrikam\\bob", ["EMAIL"]]]],
    ["poweruser1, nobody's near miss", DEMO.esetPowerUser, []],
    ["a person Defender does not know", DEMO.esetErin, []],
    ["a user with only federated and unformatted identities", DEMO.esetOpaque, []],
  ] as Array<[string, string, Array<[string, string[]]>]>)("finds the Defender accounts of %s", async (_name, uuid, want) => {
    const res = await stack.gql(EsetUserLinksDocument, { uuid });
    expect(res.body.errors).toBeUndefined();
    const links = res.body.data!.esetUser!.defenderLinks!;
    expect(links.map((l) => [l.defenderUser.id, l.matchedOn.map((m) => m.rule)])).toEqual(want);
    expect(links.every((l) => l.esetUser.uuid === uuid && l.strongestRule === l.matchedOn[0]!.rule)).toBe(true);
    const contract = await stack.gql(LinkedUsersDocument, { id: DEMO.defenderAlice, uuid });
    expect(contract.body.data!.esetUser!.defenderUsers!.map((a) => a.id)).toEqual(want.map(([id]) => id));
  });

  it("says why a link matched: the rule, the two values compared, and where the ESET value came from", async () => {
    const res = await stack.gql(EsetUserLinksDocument, { uuid: DEMO.esetCarol });
    expect(res.body.data!.esetUser!.defenderLinks![0]!.matchedOn).toEqual([
      { rule: "EMAIL", esetField: "proxyEmailAddresses[0]", esetValue: "cjones@fabrikam.com", defenderValue: "fabrikam\\cjones" },
    ]);
  });

  it("asks Defender for each candidate id once, and never for a guest's #EXT# UPN", async () => {
    await stack.gql(EsetUserLinksDocument, { uuid: DEMO.esetAlice });
    expect(defenderIdsAsked(stack.sim)).toEqual(["contoso\\alice", "contoso\\alice.example", "contoso\\a.example", "alice"]);
    stack.sim.reset();
    await stack.gql(EsetUserLinksDocument, { uuid: DEMO.esetGuest });
    expect(defenderIdsAsked(stack.sim)).toEqual(["partner\\frank"]);
  });
});

describe("DefenderUser → ESET links", () => {
  it.each([
    ["contoso\\alice", [["Alice Example", ["DOMAIN_USER", "UPN", "EMAIL"]]]],
    ["user1", [["User One", ["BARE_USER_NAME"]]]],
    ["contoso\\user1", [["User One", ["UPN", "EMAIL"]]]],
    ["contoso\\user10", [["User Ten", ["UPN", "EMAIL"]]]],
    ["fabrikam\\cjones", [["Carol Jones", ["EMAIL"]]]],
    ["contoso\\svc-backup", []],
  ] as Array<[string, Array<[string, string[]]>]>)("finds the ESET users of %s", async (id, want) => {
    const res = await stack.gql(DefenderUserLinksDocument, { id });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.defenderUser!.esetLinks!.map((l) => [l.esetUser.displayName, l.matchedOn.map((m) => m.rule)])).toEqual(want);
    const contract = await stack.gql(LinkedUsersDocument, { id, uuid: DEMO.esetAlice });
    expect(contract.body.data!.defenderUser!.esetUsers!.map((u) => u.displayName)).toEqual(want.map(([name]) => name));
  });

  it("keeps only exact matches of what ESET's substring filter returns: poweruser1 and user10 are not user1", async () => {
    await stack.gql(DefenderUserLinksDocument, { id: "contoso\\user1" });
    expect(searches(stack.sim)).toEqual(["user1@contoso."]);
    // What ESET answered that search with (its filter is "contains"): usergraph dropped the near miss.
    const returned = [...stack.sim.esetUsers.values()].filter((u) => String(u.primaryEmailAddress).includes("user1@contoso."));
    expect(returned.map((u) => u.uuid)).toEqual([DEMO.esetUserOne, DEMO.esetPowerUser]);
    stack.sim.reset();
    await stack.gql(DefenderUserLinksDocument, { id: "user1" });
    expect(searches(stack.sim)).toEqual(["user1@"]);
  });

  it("cannot find an ESET user whose addresses do not carry the account name (the DOMAIN\\user blind spot)", async () => {
    const res = await stack.gql(DefenderUserLinksDocument, { id: DEMO.defenderDmiller });
    expect(res.body.data!.defenderUser!.esetLinks).toEqual([]);
    // …while the same pair is linked from the ESET side, by Dave's CORP\dmiller identity.
    const fromEset = await stack.gql(EsetUserLinksDocument, { uuid: DEMO.esetDave });
    expect(fromEset.body.data!.esetUser!.defenderLinks!.map((l) => l.defenderUser.id)).toEqual([DEMO.defenderDmiller]);
  });
});

describe("link lookups within one request", () => {
  it("are deduplicated: a list of users and their links asks every Defender id and ESET search once", async () => {
    // These requests may cost more Defender calls than MAX_DEFENDER_COST allows by default (priced at the
    // worst case); this test is about deduplication, so its own gateway allows them.
    const wide = await startStack({ MAX_DEFENDER_COST: "1000" });
    try {
      const res = await wide.gql(UnprotectedWithDefenderDocument, { first: 50 });
      expect(res.body.errors).toBeUndefined();
      const ids = defenderIdsAsked(wide.sim);
      expect(ids.length).toBeGreaterThan(10);
      expect(new Set(ids).size).toBe(ids.length);

      wide.sim.reset();
      const many = await wide.gql(DefenderUsersDocument, { ids: [DEMO.defenderAlice, DEMO.defenderContosoUser1, DEMO.defenderAlice] });
      expect(many.body.errors).toBeUndefined();
      wide.sim.reset();
      const both = await wide.post(
        JSON.stringify({
          query: `{ a: defenderUser(id: "contoso\\\\user1") { esetUsers { uuid } esetLinks { strongestRule } }
                    b: defenderUsers(ids: ["contoso\\\\user1", "user1"]) { esetLinks { esetUser { uuid defenderUsers { id } } } } }`,
        }),
      );
      expect(both.body.errors).toBeUndefined();
      expect(searches(wide.sim).sort()).toEqual(["user1@", "user1@contoso."]);
      expect(new Set(defenderIdsAsked(wide.sim)).size).toBe(defenderIdsAsked(wide.sim).length);
    } finally {
      await wide.close();
    }
  });
});

describe("links and the outbound rate limits", () => {
  it("spend no more than the Defender limit, and answer the rest RATE_LIMITED on their links field only", async () => {
    const limited = await startStack({ DEFENDER_RATE_LIMITS: "5/60s" });
    try {
      const res = await limited.gql(UnprotectedWithDefenderDocument, { first: 12 });
      const edges = res.body.data!.esetUserList!.edges;
      expect(edges.length).toBe(12);
      expect(edges.every((e) => e.node !== null && e.node.displayName !== null)).toBe(true);
      const failed = res.body.errors ?? [];
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.every((e) => e.path?.[e.path.length - 1] === "defenderLinks")).toBe(true);
      expect(failed.every((e) => e.extensions?.code === "RATE_LIMITED" && e.extensions?.source === "DEFENDER")).toBe(true);
      expect(edges.filter((e) => e.node!.defenderLinks === null)).toHaveLength(failed.length);
      expect(limited.sim.count({ source: "DEFENDER", kind: "api" })).toBe(5);
    } finally {
      await limited.close();
    }
  });

  it("spend no more than the ESET limit on searches", async () => {
    const limited = await startStack({ ESET_RATE_LIMITS: "3/60s" });
    try {
      const ids = [DEMO.defenderAlice, DEMO.defenderContosoUser1, DEMO.defenderUser10, DEMO.defenderCjones, DEMO.defenderSvcBackup];
      const res = await limited.post(
        JSON.stringify({
          query: `query ($ids: [ID!]!) { defenderUsers(ids: $ids) { id esetLinks { strongestRule } } }`,
          variables: { ids },
        }),
      );
      const accounts = (res.body.data as { defenderUsers: Array<{ id: string; esetLinks: unknown[] | null }> }).defenderUsers;
      expect(accounts.map((a) => a.id)).toEqual(ids);
      expect(accounts.filter((a) => a.esetLinks !== null)).toHaveLength(3);
      expect(res.body.errors!.map((e) => [e.path?.[2], e.extensions?.code, e.extensions?.source])).toEqual([
        ["esetLinks", "RATE_LIMITED", "ESET"],
        ["esetLinks", "RATE_LIMITED", "ESET"],
      ]);
      expect(limited.sim.count({ source: "ESET", kind: "api" })).toBe(3);
    } finally {
      await limited.close();
    }
  });
});

describe("links with the entity cache on", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());

  const cost = () => ({ defender: sim.count({ source: "DEFENDER", kind: "api" }), eset: sim.count({ source: "ESET", kind: "api" }) });

  /** Each measurement on a fresh gateway (an empty cache), once cold and once warm; the README quotes these. */
  it.each([
    {
      name: "esetUser(Alice) { defenderLinks }",
      query: EsetUserLinksDocument,
      variables: { uuid: DEMO.esetAlice },
      cold: { defender: 4, eset: 1 },
    },
    {
      name: "esetUser(User One) { defenderLinks }",
      query: EsetUserLinksDocument,
      variables: { uuid: DEMO.esetUserOne },
      cold: { defender: 2, eset: 1 },
    },
    {
      name: "esetUser(Carol) { defenderLinks }",
      query: EsetUserLinksDocument,
      variables: { uuid: DEMO.esetCarol },
      cold: { defender: 3, eset: 1 },
    },
    {
      name: "defenderUser(contoso\\alice) { esetLinks }",
      query: DefenderUserLinksDocument,
      variables: { id: DEMO.defenderAlice },
      cold: { defender: 1, eset: 1 },
    },
    {
      name: "defenderUser(user1) { esetLinks }",
      query: DefenderUserLinksDocument,
      variables: { id: DEMO.defenderUser1 },
      cold: { defender: 1, eset: 1 },
    },
  ])("$name costs $cold.defender Defender and $cold.eset ESET calls cold, none warm", async ({ query, variables, cold }) => {
    const gateway = await startGatewayOn(sim, { CACHE_TTL_SECONDS: "60", CACHE_NEGATIVE_TTL_SECONDS: "60" });
    const ask = () => gateway.post(JSON.stringify({ query: print(query), variables }));
    try {
      sim.reset();
      const first = await ask();
      expect(first.body.errors).toBeUndefined();
      expect(cost()).toEqual(cold);
      sim.reset();
      const again = await ask();
      expect(again.body).toEqual(first.body);
      expect(cost()).toEqual({ defender: 0, eset: 0 });
    } finally {
      await gateway.close();
    }
  });

  it("primes the users a link search lists, so looking them up afterwards is free", async () => {
    const gateway = await startGatewayOn(sim, { CACHE_TTL_SECONDS: "60" });
    try {
      await gateway.gql(DefenderUserLinksDocument, { id: DEMO.defenderCjones });
      sim.reset();
      const res = await gateway.gql(EsetUserLinksDocument, { uuid: DEMO.esetCarol });
      expect(res.body.data!.esetUser!.uuid).toBe(DEMO.esetCarol);
      expect(cost().eset).toBe(0);
    } finally {
      await gateway.close();
    }
  });
});

describe("links and scopes", () => {
  let authed: Stack;
  const ESET_ONLY = { "x-api-key": "eset-only-key-links-2b7d9c1e4f6a" };
  const DEFENDER_ONLY = { "x-api-key": "defender-only-key-links-8e4a1c6f0b2d" };
  beforeAll(async () => {
    authed = await startStack({
      AUTH_MODE: "",
      AUTH_API_KEYS: `eset-only-key-links-2b7d9c1e4f6a=eset:users:read,defender-only-key-links-8e4a1c6f0b2d=defender:users:read`,
    });
  });
  afterAll(() => authed.close());
  beforeEach(() => authed.sim.reset());

  it("refuses Defender links without defender:users:read, calling Defender never and serving the ESET user", async () => {
    const res = await authed.gql(EsetUserLinksDocument, { uuid: DEMO.esetAlice }, ESET_ONLY);
    expect(res.body.data!.esetUser).toMatchObject({ uuid: DEMO.esetAlice, displayName: "Alice Example", defenderLinks: null });
    expect(codes(res)).toEqual(["FORBIDDEN"]);
    expect(res.body.errors![0]).toMatchObject({
      path: ["esetUser", "defenderLinks"],
      extensions: { source: "DEFENDER", requiredScope: "defender:users:read" },
    });
    expect(authed.sim.count({ source: "DEFENDER" })).toBe(0);
  });

  it("refuses ESET links without eset:users:read, calling ESET never and serving the Defender account", async () => {
    const res = await authed.gql(DefenderUserLinksDocument, { id: DEMO.defenderAlice }, DEFENDER_ONLY);
    expect(res.body.data!.defenderUser).toMatchObject({ id: DEMO.defenderAlice, esetLinks: null });
    expect(codes(res)).toEqual(["FORBIDDEN"]);
    expect(authed.sim.count({ source: "ESET" })).toBe(0);
  });

  it("nulls a refused defenderUsers alone, keeping the ESET user it hangs on (issue 22: it used to null the user)", async () => {
    const res = await authed.gql(LinkedUsersDocument, { id: DEMO.defenderAlice, uuid: DEMO.esetAlice }, ESET_ONLY);
    expect(res.body.data).toEqual({ defenderUser: null, esetUser: { uuid: DEMO.esetAlice, defenderUsers: null } });
    expect(res.body.errors!.map((e) => [e.path, e.extensions?.code])).toEqual([
      [["defenderUser"], "FORBIDDEN"],
      [["esetUser", "defenderUsers"], "FORBIDDEN"],
    ]);
    expect(authed.sim.count({ source: "DEFENDER" })).toBe(0);
  });
});
