import { PersonDocument } from "../__generated__/operations";
import { DEMO } from "../../src/simulator/demo-data";
import { startSimulator, type Simulator } from "../../src/simulator/simulator";
import { codes, startGatewayOn, startStack, type Stack } from "../helpers/stack";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());
beforeEach(() => stack.sim.reset());

/** A person as [Defender ids, ESET display names, links as "ESET name ↔ Defender id: RULE"]. */
async function lookUp(ref: string) {
  const res = await stack.gql(PersonDocument, { ref });
  expect(res.body.errors).toBeUndefined();
  const person = res.body.data!.person;
  if (person === null) return null;
  expect(person.ref).toBe(ref);
  return [
    person.defenderUsers!.map((a) => a.id),
    person.esetUsers!.map((u) => u.displayName),
    person.links!.map((l) => `${l.esetUser.displayName} ↔ ${l.defenderUser.id}: ${l.matchedOn.map((m) => m.rule).join("+")}`),
  ];
}

describe("person(ref:)", () => {
  it.each([
    ["a UPN", "alice@contoso.com", [["contoso\\alice"], ["Alice Example"], ["Alice Example ↔ contoso\\alice: DOMAIN_USER+UPN+EMAIL"]]],
    [
      "a UPN in other case",
      "ALICE@Contoso.COM",
      [["contoso\\alice"], ["Alice Example"], ["Alice Example ↔ contoso\\alice: DOMAIN_USER+UPN+EMAIL"]],
    ],
    [
      "a DOMAIN\\user",
      "contoso\\alice",
      [["contoso\\alice"], ["Alice Example"], ["Alice Example ↔ contoso\\alice: DOMAIN_USER+UPN+EMAIL"]],
    ],
    ["an alias (proxy address)", "cjones@fabrikam.com", [["fabrikam\\cjones"], ["Carol Jones"], ["Carol Jones ↔ fabrikam\\cjones: EMAIL"]]],
    [
      "a UPN that reaches a differently named Windows domain",
      "dave.miller@northwind.example",
      [["corp\\dmiller"], ["Dave Miller"], ["Dave Miller ↔ corp\\dmiller: DOMAIN_USER"]],
    ],
    [
      "user1's UPN, without user10 or poweruser1",
      "user1@contoso.com",
      [["contoso\\user1", "user1"], ["User One"], ["User One ↔ contoso\\user1: UPN+EMAIL", "User One ↔ user1: BARE_USER_NAME"]],
    ],
    ["user10's UPN, without user1", "user10@contoso.com", [["contoso\\user10"], ["User Ten"], ["User Ten ↔ contoso\\user10: UPN+EMAIL"]]],
    ["someone known to ESET only", "erin@contoso.com", [[], ["Erin Only"], []]],
    ["someone known to Defender only", DEMO.defenderSvcBackup, [["contoso\\svc-backup"], [], []]],
    // The blind spot: from CORP\dmiller nothing leads to Dave's mailbox (dave.miller@northwind.example).
    ["a DOMAIN\\user whose ESET side has no matching address", "CORP\\dmiller", [["corp\\dmiller"], [], []]],
  ] as Array<[string, string, string[][]]>)("finds both sides of %s", async (_name, ref, want) => {
    expect(await lookUp(ref)).toEqual(want);
  });

  it("is null when neither product knows the person", async () => {
    expect(await lookUp("nobody@nowhere.example")).toBeNull();
    expect(await lookUp("contoso\\nobody")).toBeNull();
  });

  it.each([
    ["a bare user name", "alice"],
    ["a path", "a/b@contoso.com"],
    ["two backslashes", "contoso\\a\\b"],
    ["no user part", "@example.org"],
    ["a control character", "alice@contoso.com\u0007"],
    ["an overlong reference", `${"x".repeat(320)}@contoso.com`],
  ])("refuses %s with BAD_USER_INPUT, without echoing it or calling anyone", async (_name, ref) => {
    const res = await stack.gql(PersonDocument, { ref });
    expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.body.errors![0]!.extensions!.validationErrors).toEqual([
      { argument: "ref", problems: [expect.stringContaining("UPN or e-mail")] },
    ]);
    expect(res.text).not.toContain(JSON.stringify(ref).slice(1, -1));
    expect(stack.sim.requests).toHaveLength(0);
  });

  it("serves the side that works when the other fails, and says which failed", async () => {
    stack.sim.inject({ target: "defender", kind: "status", status: 500, times: 100 });
    const res = await stack.gql(PersonDocument, { ref: "alice@contoso.com" });
    const person = res.body.data!.person!;
    expect(person.esetUsers!.map((u) => u.displayName)).toEqual(["Alice Example"]);
    expect(person.defenderUsers).toBeNull();
    expect(person.links).toBeNull();
    expect(res.body.errors!.map((e) => [e.path, e.extensions?.code, e.extensions?.source])).toEqual([
      [["person", "defenderUsers"], "UPSTREAM_ERROR", "DEFENDER"],
      [["person", "links"], "UPSTREAM_ERROR", "DEFENDER"],
    ]);
  });
});

describe("person(ref:) costs", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim.close());

  it.each([
    { ref: "alice@contoso.com", defender: 4, eset: 2 },
    { ref: "contoso\\alice", defender: 4, eset: 1 },
    { ref: "cjones@fabrikam.com", defender: 4, eset: 2 },
    { ref: "user1@contoso.com", defender: 2, eset: 3 },
    { ref: "erin@contoso.com", defender: 2, eset: 1 },
    { ref: "nobody@nowhere.example", defender: 2, eset: 1 },
  ])("$ref: $defender Defender and $eset ESET calls on a cold cache, none warm", async ({ ref, defender, eset }) => {
    const gateway = await startGatewayOn(sim, { CACHE_TTL_SECONDS: "60", CACHE_NEGATIVE_TTL_SECONDS: "60" });
    const calls = () => [sim.count({ source: "DEFENDER", kind: "api" }), sim.count({ source: "ESET", kind: "api" })];
    try {
      sim.reset();
      const cold = await gateway.gql(PersonDocument, { ref });
      expect(cold.body.errors).toBeUndefined();
      expect(calls()).toEqual([defender, eset]);
      sim.reset();
      const warm = await gateway.gql(PersonDocument, { ref });
      expect(warm.body).toEqual(cold.body);
      expect(calls()).toEqual([0, 0]);
    } finally {
      await gateway.close();
    }
  });
});

describe("person(ref:) and scopes", () => {
  let authed: Stack;
  const DEFENDER_ONLY = { "x-api-key": "defender-only-key-person-8e4a1c6f0b2d" };
  const ESET_ONLY = { "x-api-key": "eset-only-key-person-2b7d9c1e4f6a" };
  beforeAll(async () => {
    authed = await startStack({
      AUTH_MODE: "",
      AUTH_API_KEYS: `${DEFENDER_ONLY["x-api-key"]}=defender:users:read,${ESET_ONLY["x-api-key"]}=eset:users:read`,
    });
  });
  afterAll(() => authed.close());
  beforeEach(() => authed.sim.reset());

  it("serves the Defender side to a Defender-only caller and refuses the ESET side, calling ESET never", async () => {
    const res = await authed.gql(PersonDocument, { ref: "alice@contoso.com" }, DEFENDER_ONLY);
    expect(res.body.data!.person).toMatchObject({ defenderUsers: [{ id: DEMO.defenderAlice }], esetUsers: null, links: null });
    expect(res.body.errors!.map((e) => [e.path, e.extensions?.code, e.extensions?.requiredScope])).toEqual([
      [["person", "esetUsers"], "FORBIDDEN", "eset:users:read"],
      [["person", "links"], "FORBIDDEN", "eset:users:read"],
    ]);
    expect(authed.sim.count({ source: "ESET" })).toBe(0);
  });

  it("serves the ESET side to an ESET-only caller, calling Defender never", async () => {
    const res = await authed.gql(PersonDocument, { ref: "contoso\\alice" }, ESET_ONLY);
    expect(res.body.data!.person!.esetUsers!.map((u) => u.uuid)).toEqual([DEMO.esetAlice]);
    expect(codes(res)).toEqual(["FORBIDDEN", "FORBIDDEN"]);
    expect(authed.sim.count({ source: "DEFENDER" })).toBe(0);
  });

  it("answers null when the only side that knows the person is one the caller may not read", async () => {
    const res = await authed.gql(PersonDocument, { ref: DEMO.defenderSvcBackup }, ESET_ONLY);
    expect(res.body).toEqual({ data: { person: null } });
  });
});
