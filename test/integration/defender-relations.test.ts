import { DEMO } from "../../src/simulator/demo-data";
import { benchMachineId, DEMO_ALERTS, DEMO_MACHINES } from "../../src/simulator/defender-relations";
import { startSimulator, type DefenderEndpoint, type Simulator } from "../../src/simulator/simulator";
import { Deadline } from "../../src/upstream/deadline";
import type { DefenderClient } from "../../src/sources/defender/client";
import {
  DefenderAlertsPageDocument,
  type DefenderAlertsPageQuery,
  DefenderUserEvidenceLinksDocument,
  DefenderUserLinksDocument,
  DefenderUserMachinesAndAlertsDocument,
  MachineLoggedOnUsersProtectionDocument,
  RiskyUsersDashboardDocument,
} from "../__generated__/operations";
import { codes, startGatewayOn, startStack, type GatewayClient, type GraphQLResponse, type Stack } from "../helpers/stack";

/**
 * Defender's relations beyond the user, end to end against the simulator: each relation, the vendor plan
 * each batched relation chooses (counted at the simulator), permission failures isolated to their field,
 * the ALERT_EVIDENCE link rule, and paging through defenderAlerts.
 */

const DAY = 86_400_000;
const SIM = { extraDefenderUsers: 60, extraDefenderMachines: 60, extraDefenderAlerts: 200 };
const benchUser = (i: number) => `bench\\user${String(i).padStart(6, "0")}`;
const sevenDaysAgo = () => new Date(Date.now() - 7 * DAY).toISOString();
const api = (sim: Simulator, endpoint: DefenderEndpoint) => sim.count({ source: "DEFENDER", kind: "api", endpoint });
const defenderCalls = (sim: Simulator) => sim.count({ source: "DEFENDER", kind: "api" });

/** The simulator's own answer: a user's alerts updated since `since`, newest first (what the graph must show). */
function expectedAlerts(sim: Simulator, userName: string, since: string, first: number): string[] {
  const start = Date.parse(since);
  return [...sim.defenderAlerts.values()]
    .filter((a) => (a.relatedUser as { userName?: string } | null)?.userName === userName && Date.parse(String(a.lastUpdateTime)) >= start)
    .sort((a, b) => Date.parse(String(b.lastUpdateTime)) - Date.parse(String(a.lastUpdateTime)) || String(a.id).localeCompare(String(b.id)))
    .slice(0, first)
    .map((a) => String(a.id));
}

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({}, SIM);
});
afterAll(() => stack.close());
beforeEach(() => stack.sim.reset());

describe("the relations", () => {
  it("answers a user's machines, most prevalent machine and alerts (with their machines) from the documented endpoints", async () => {
    const since = sevenDaysAgo();
    const res = await stack.gql(DefenderUserMachinesAndAlertsDocument, { id: DEMO.defenderAlice, since });
    expect(res.body.errors).toBeUndefined();
    const user = res.body.data!.defenderUser!;
    expect(user.mostPrevalentMachine?.id).toBe(stack.sim.defenderUsers.get(DEMO.defenderAlice)!.mostPrevalentMachineId);
    expect(user.machines!.map((m) => m.computerDnsName).sort()).toEqual(["alice-laptop.contoso.com", "fs01.contoso.com"]);
    expect(user.machines!.find((m) => m.id === DEMO_MACHINES.aliceLaptop)).toMatchObject({
      osPlatform: "Windows11",
      osBuild: "22631",
      healthStatus: "ACTIVE",
      riskScore: "HIGH",
      exposureLevel: "MEDIUM",
    });
    // Newest update first: the file-server alert was updated after the PowerShell one.
    expect(user.alerts!.map((a) => a.id)).toEqual([DEMO_ALERTS.aliceShared, DEMO_ALERTS.aliceHigh]);
    expect(user.alerts![1]).toMatchObject({
      severity: "HIGH",
      status: "NEW",
      category: "Execution",
      mitreTechniques: ["T1059.001", "T1105", "T1027"],
      machine: { computerDnsName: "alice-laptop.contoso.com" },
    });
    expect(user.alerts![0]).toMatchObject({ severity: "MEDIUM", status: "IN_PROGRESS", machine: { computerDnsName: "fs01.contoso.com" } });
    expect(api(stack.sim, "users.machines")).toBe(1);
    expect(api(stack.sim, "users.alerts")).toBe(1);
    expect(api(stack.sim, "alerts.list")).toBe(0);
  });

  it("goes from a machine to the users who logged on to it, and on to their ESET protection", async () => {
    const res = await stack.gql(MachineLoggedOnUsersProtectionDocument, { machineId: "fs01.contoso.com" });
    expect(res.body.errors).toBeUndefined();
    const machine = res.body.data!.defenderMachine!;
    expect(machine).toMatchObject({ id: DEMO_MACHINES.sharedServer, healthStatus: "ACTIVE", riskScore: "MEDIUM" });
    const users = machine.loggedOnUsers!;
    expect(users.map((u) => u.id)).toEqual(
      expect.arrayContaining([DEMO.defenderAlice, "contoso\\user1", "contoso\\svc-backup", "fabrikam\\bob"]),
    );
    const alice = users.find((u) => u.id === DEMO.defenderAlice)!;
    expect(alice.esetLinks![0]!.esetUser).toMatchObject({ uuid: DEMO.esetAlice, protectionStatus: "FULLY_PROTECTED" });
    expect(api(stack.sim, "machines.get")).toBe(1);
    expect(api(stack.sim, "machines.logonusers")).toBe(1);
  });

  it("answers null, without an error, for a machine Defender does not know", async () => {
    const res = await stack.post(JSON.stringify({ query: '{ defenderMachine(id: "no-such-machine") { id } }' }));
    expect(res.body).toEqual({ data: { defenderMachine: null } });
    expect(api(stack.sim, "machines.get")).toBe(1);
  });

  it("answers [] for the machines and alerts of a user Defender has none for (200 with an empty set, or the 404 of older revisions)", async () => {
    const client = stack.gateway.clients.sources.get("DEFENDER")!.client as DefenderClient;
    const deadline = new Deadline(5_000);
    expect(await client.getUserMachines("nobody-defender-knows", deadline)).toEqual([]);
    expect(await client.getUserAlerts("nobody-defender-knows", deadline)).toEqual([]);
    stack.sim.inject({ target: "defender-machines", endpoint: "users.machines", kind: "status", status: 404 });
    const res = await stack.post(JSON.stringify({ query: `{ defenderUser(id: "contoso\\\\user10") { machines { id } alerts { id } } }` }));
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({ defenderUser: { machines: [], alerts: [] } });
  });

  it("reads machines and alerts as documented: int64 osBuild exact, nullable enums UNSPECIFIED, UnSpecified severity, no related user", async () => {
    const linesBefore = stack.logs.lines.length;
    const res = await stack.post(
      JSON.stringify({
        query: `{ defenderMachine(id: "${DEMO_MACHINES.testMachine}") { osBuild riskScore exposureLevel healthStatus onboardingStatus rbacGroupId alerts { id severity status relatedUser { userName } incidentId } } }`,
      }),
    );
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({
      defenderMachine: {
        osBuild: "9007199254740993",
        riskScore: "UNSPECIFIED",
        exposureLevel: "UNSPECIFIED",
        healthStatus: "NO_SENSOR_DATA",
        onboardingStatus: "InsufficientInfo",
        rbacGroupId: "142",
        alerts: [{ id: DEMO_ALERTS.testMachineNoUser, severity: "UNSPECIFIED", status: "UNKNOWN", relatedUser: null, incidentId: null }],
      },
    });
    // Nullable enums and Defender's own UnSpecified are not news: nothing is reported as unknown (by this request).
    const logged = stack.logs.entries().slice(linesBefore);
    expect(logged.filter((e) => String(e.msg).includes("enum value usergraph does not know"))).toEqual([]);
  });

  it("serves an enum value Defender adds without notice as UNSPECIFIED and logs it once", async () => {
    const machine = stack.sim.defenderMachines.get(DEMO_MACHINES.backupServer)!;
    const saved = machine.healthStatus;
    machine.healthStatus = "Quarantined";
    try {
      const query = JSON.stringify({ query: `{ defenderMachine(id: "backup01") { healthStatus } }` });
      expect((await stack.post(query)).body.data).toEqual({ defenderMachine: { healthStatus: "UNSPECIFIED" } });
      await stack.post(query);
      const warned = stack.logs.entries().filter((e) => e.enumName === "MachineHealthStatus" && e.wireValue === "Quarantined");
      expect(warned).toHaveLength(1);
    } finally {
      machine.healthStatus = saved;
    }
  });
});

describe("the vendor plans, counted at the simulator", () => {
  const ids = Array.from({ length: 50 }, (_, i) => benchUser(i));

  it("serves the 50-user risky dashboard with one alert-list call and one fleet listing (52 calls; 150 one by one)", async () => {
    const since = sevenDaysAgo();
    const res = await stack.gql(RiskyUsersDashboardDocument, { ids, since });
    expect(res.body.errors).toBeUndefined();
    const users = res.body.data!.defenderUsers!;
    expect(users).toHaveLength(50);
    users.forEach((u, i) => {
      expect(u!.alerts!.map((a) => a.id)).toEqual(expectedAlerts(stack.sim, `user${String(i).padStart(6, "0")}`, since, 10));
      expect(u!.mostPrevalentMachine!.id).toBe(benchMachineId(i % 60));
    });
    expect(users.some((u) => u!.alerts!.length > 0)).toBe(true);
    expect(api(stack.sim, "users.get")).toBe(50);
    expect(api(stack.sim, "alerts.list")).toBe(1);
    expect(api(stack.sim, "machines.list")).toBe(1);
    expect(api(stack.sim, "users.alerts") + api(stack.sim, "machines.get")).toBe(0);
    expect(defenderCalls(stack.sim)).toBe(52);
    const alertList = stack.sim.requests.find((r) => r.endpoint === "alerts.list")!;
    expect(decodeURIComponent(alertList.path)).toMatch(/\$filter=lastUpdateTime ge \d{4}-\d\d-\d\dT\d\d:00:00Z&\$top=10000$/);
    const line = stack.logs.entries("graphql request").at(-1)!;
    expect(line.plan).toEqual(
      expect.arrayContaining(["alerts: list, 1 call for 50 users/machines", "machines: fleet list, 1 call for 50 ids"]),
    );

    // The naive plan, for comparison: the same data asked one user per request costs a call per user per relation.
    stack.sim.reset();
    for (const id of ids) {
      const one = await stack.post(
        JSON.stringify({
          query: `query($id: ID!, $since: DateTime) { defenderUser(id: $id) { alerts(since: $since, first: 10) { id } mostPrevalentMachine { id } } }`,
          variables: { id, since },
        }),
      );
      expect(one.body.errors).toBeUndefined();
    }
    expect(defenderCalls(stack.sim)).toBe(150);
  });

  it("asks a few users' alerts with the per-user endpoint", async () => {
    const res = await stack.post(
      JSON.stringify({
        query: `query($since: DateTime) { defenderUsers(ids: ["contoso\\\\alice"]) { alerts(since: $since) { id } } }`,
        variables: { since: sevenDaysAgo() },
      }),
    );
    expect(res.body.errors).toBeUndefined();
    expect(api(stack.sim, "users.alerts")).toBe(1);
    expect(api(stack.sim, "alerts.list")).toBe(0);
    expect(stack.logs.entries("graphql request").at(-1)!.plan).toEqual(["alerts: per user, 1 call for 1 user/machine"]);
  });

  it("reads the alert list with $expand=evidence when evidence is selected, even for one user (1 call instead of 2)", async () => {
    const res = await stack.gql(DefenderUserEvidenceLinksDocument, { id: DEMO.defenderAlice, since: sevenDaysAgo() });
    expect(res.body.errors).toBeUndefined();
    const evidence = res.body.data!.defenderUser!.alerts!.flatMap((a) => a.evidence);
    expect(evidence).toContainEqual(
      expect.objectContaining({ entityType: "User", accountName: "alice", domainName: "CONTOSO", userPrincipalName: "alice@contoso.com" }),
    );
    expect(api(stack.sim, "users.alerts")).toBe(0);
    expect(stack.sim.requests.filter((r) => r.endpoint === "alerts.list").map((r) => r.path)).toEqual([
      expect.stringContaining("$expand=evidence"),
    ]);
  });

  it("reads the list of every alert when no window is given and evidence is wanted (1 call, not per user plus evidence)", async () => {
    const res = await stack.post(
      JSON.stringify({ query: `{ defenderUser(id: "contoso\\\\alice") { alerts(first: 100) { id evidence { entityType } } } }` }),
    );
    expect(res.body.errors).toBeUndefined();
    expect((res.body.data as { defenderUser: { alerts: unknown[] } }).defenderUser.alerts).toHaveLength(2);
    expect(stack.sim.requests.filter((r) => r.endpoint === "alerts.list").map((r) => decodeURIComponent(r.path))).toEqual([
      "/api/alerts?$top=10000&$expand=evidence",
    ]);
    expect(api(stack.sim, "users.alerts")).toBe(0);
  });

  it("looks one machine up by id, and many from the fleet listing", async () => {
    await stack.post(JSON.stringify({ query: `{ defenderMachine(id: "${DEMO_MACHINES.hotDesk}") { id } }` }));
    expect(api(stack.sim, "machines.get")).toBe(1);
    expect(api(stack.sim, "machines.list")).toBe(0);
    stack.sim.reset();
    const res = await stack.post(
      JSON.stringify({
        query: `{ a: defenderMachine(id: "${DEMO_MACHINES.hotDesk}") { computerDnsName } b: defenderMachine(id: "dc01") { id } c: defenderMachine(id: "BOB-DEV.fabrikam.com") { id } }`,
      }),
    );
    expect(res.body.data).toEqual({
      a: { computerDnsName: "hotdesk-05.contoso.com" },
      b: { id: DEMO_MACHINES.domainController },
      c: { id: DEMO_MACHINES.bobDev },
    });
    expect(api(stack.sim, "machines.list")).toBe(1);
    expect(api(stack.sim, "machines.get")).toBe(0);
  });

  describe("with the entity cache on", () => {
    // Each test starts from an empty cache (a gateway of its own): what one test listed must not answer the next.
    let sim: Simulator;
    let cached: GatewayClient & { sim: Simulator };
    beforeAll(async () => {
      sim = await startSimulator(SIM);
    });
    afterAll(() => sim.close());
    beforeEach(async () => {
      sim.reset();
      cached = { ...(await startGatewayOn(sim, { CACHE_TTL_SECONDS: "60" })), sim };
    });
    afterEach(() => cached.close());

    it("answers machines from the fleet listing while it is fresh: a later request costs no machine call", async () => {
      await cached.post(JSON.stringify({ query: `{ a: defenderMachine(id: "dc01") { id } b: defenderMachine(id: "backup01") { id } }` }));
      expect(api(cached.sim, "machines.list")).toBe(1);
      cached.sim.reset();
      const res = await cached.post(
        JSON.stringify({ query: `{ defenderMachine(id: "${DEMO_MACHINES.user1Desktop}") { computerDnsName } }` }),
      );
      expect(res.body.data).toEqual({ defenderMachine: { computerDnsName: "desktop-user1.contoso.com" } });
      expect(defenderCalls(cached.sim)).toBe(0);
      expect(cached.logs.entries("graphql request").at(-1)!.plan).toEqual(["machines: cached fleet list for 1 ids"]);
    });

    it("primes every user's alerts of a listed window: a later single user's alerts cost no call, and none for a user without alerts", async () => {
      const since = sevenDaysAgo();
      await cached.gql(RiskyUsersDashboardDocument, { ids: ids.slice(0, 10), since });
      expect(api(cached.sim, "alerts.list")).toBe(1);
      cached.sim.reset();
      const query = `query($id: ID!, $since: DateTime) { defenderUser(id: $id) { alerts(since: $since, first: 10) { id } } }`;
      const listed = await cached.post(JSON.stringify({ query, variables: { id: benchUser(55), since } }));
      expect((listed.body.data as { defenderUser: { alerts: Array<{ id: string }> } }).defenderUser.alerts.map((a) => a.id)).toEqual(
        expectedAlerts(cached.sim, "user000055", since, 10),
      );
      const none = await cached.post(
        JSON.stringify({ query, variables: { id: DEMO.defenderCjones, since: new Date(Date.now() - DAY).toISOString() } }),
      );
      expect(none.body.errors).toBeUndefined();
      expect(api(cached.sim, "alerts.list") + api(cached.sim, "users.alerts")).toBe(1);
      // cjones' window (the last day) is another window: it was asked; user000055's was not.
      expect(api(cached.sim, "users.alerts")).toBe(1);
    });
  });
});

describe("the alert listing kept slim in process", () => {
  let tiny: Stack;
  beforeAll(async () => {
    // A cache too small for the listing's entries: most are evicted at once.
    tiny = await startStack({ CACHE_TTL_SECONDS: "60", CACHE_MAX_ENTRIES: "4" }, SIM);
  });
  afterAll(() => tiny.close());

  it("asks per key for a holder the cache evicted, and answers none without a call for anyone the listing did not hold", async () => {
    const since = sevenDaysAgo();
    await tiny.gql(RiskyUsersDashboardDocument, { ids: [benchUser(0), benchUser(1)], since });
    expect(api(tiny.sim, "alerts.list")).toBe(1);
    tiny.sim.reset();
    const query = `query($a: ID!, $b: ID!, $since: DateTime) { a: defenderUser(id: $a) { alerts(since: $since, first: 10) { id } } b: defenderUser(id: $b) { alerts(since: $since) { id } } }`;
    const res = await tiny.post(JSON.stringify({ query, variables: { a: benchUser(57), b: DEMO.defenderUser10, since } }));
    expect(res.body.errors).toBeUndefined();
    const data = res.body.data as { a: { alerts: Array<{ id: string }> }; b: { alerts: unknown[] } };
    expect(data.a.alerts.map((x) => x.id)).toEqual(expectedAlerts(tiny.sim, "user000057", since, 10));
    expect(data.a.alerts.length).toBeGreaterThan(0);
    expect(data.b.alerts).toEqual([]);
    expect(api(tiny.sim, "alerts.list")).toBe(0);
    expect(tiny.sim.requests.filter((r) => r.endpoint === "users.alerts").map((r) => r.id)).toEqual([benchUser(57)]);
  });
});

describe("permissions: each relation fails alone, naming what the Entra app lacks", () => {
  it("nulls only the alerts when the app lacks Alert.Read.All", async () => {
    stack.sim.setDefenderRoles(["User.Read.All", "Machine.Read.All"]);
    const res = await stack.gql(DefenderUserMachinesAndAlertsDocument, { id: DEMO.defenderAlice, since: sevenDaysAgo() });
    const user = res.body.data!.defenderUser!;
    expect(user.accountName).toBe("alice");
    expect(user.machines).toHaveLength(2);
    expect(user.mostPrevalentMachine?.id).toBe(DEMO_MACHINES.aliceLaptop);
    expect(user.alerts).toBeNull();
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors![0]).toMatchObject({
      path: ["defenderUser", "alerts"],
      message: expect.stringContaining("application permission Alert.Read.All"),
      extensions: { code: "UPSTREAM_FORBIDDEN", source: "DEFENDER", status: 403, requiredPermission: "Alert.Read.All" },
    });
  });

  it("nulls only the machine relations when the app lacks Machine.Read.All, each naming its permission", async () => {
    stack.sim.setDefenderRoles(["User.Read.All", "Alert.Read.All"]);
    const res = await stack.gql(DefenderUserMachinesAndAlertsDocument, { id: DEMO.defenderAlice, since: sevenDaysAgo() });
    const user = res.body.data!.defenderUser!;
    expect(user.accountName).toBe("alice");
    expect(user.alerts).toHaveLength(2);
    expect(user.mostPrevalentMachine).toBeNull();
    expect(user.machines).toBeNull();
    expect(user.alerts!.every((a) => a.machine === null)).toBe(true);
    const byPath = new Map(res.body.errors!.map((e) => [e.path!.join("."), e]));
    expect(byPath.get("defenderUser.mostPrevalentMachine")?.extensions).toMatchObject({
      code: "UPSTREAM_FORBIDDEN",
      requiredPermission: "Machine.Read.All",
    });
    expect(byPath.get("defenderUser.machines")?.extensions).toMatchObject({
      code: "UPSTREAM_FORBIDDEN",
      requiredPermission: "Machine.ReadWrite.All",
    });
    expect(byPath.get("defenderUser.alerts.0.machine")?.message).toContain("Machine.Read.All");
  });

  it("names Machine.ReadWrite.All for a user's machines where Defender follows its current docs, and the rest still answers", async () => {
    stack.sim.userMachinesNeedReadWrite = true;
    const res = await stack.gql(DefenderUserMachinesAndAlertsDocument, { id: DEMO.defenderAlice, since: sevenDaysAgo() });
    expect(res.body.data!.defenderUser!.machines).toBeNull();
    expect(res.body.data!.defenderUser!.mostPrevalentMachine?.id).toBe(DEMO_MACHINES.aliceLaptop);
    expect(codes(res)).toEqual(["UPSTREAM_FORBIDDEN"]);
    expect(res.body.errors![0]!.message).toContain("Machine.ReadWrite.All");
  });

  it("nulls only the alerts when Defender's alert endpoints fail, with the vendor's failure as the code", async () => {
    stack.sim.inject({ target: "defender-alerts", kind: "status", status: 500, times: 20 });
    const res = await stack.gql(DefenderUserMachinesAndAlertsDocument, { id: DEMO.defenderAlice, since: sevenDaysAgo() });
    expect(res.body.data!.defenderUser).toMatchObject({
      accountName: "alice",
      alerts: null,
      mostPrevalentMachine: { id: DEMO_MACHINES.aliceLaptop },
    });
    expect(res.body.data!.defenderUser!.machines).toHaveLength(2);
    expect(res.body.errors!.map((e) => [e.path!.join("."), e.extensions!.code])).toEqual([["defenderUser.alerts", "UPSTREAM_ERROR"]]);
  });

  it("nulls only the logged-on users when the app lacks User.Read.All", async () => {
    stack.sim.setDefenderRoles(["Machine.Read.All", "Alert.Read.All"]);
    const res = await stack.gql(MachineLoggedOnUsersProtectionDocument, { machineId: DEMO_MACHINES.sharedServer });
    expect(res.body.data!.defenderMachine).toMatchObject({ computerDnsName: "fs01.contoso.com", loggedOnUsers: null });
    expect(res.body.errors!.map((e) => [e.path!.join("."), e.extensions!.requiredPermission])).toEqual([
      ["defenderMachine.loggedOnUsers", "User.Read.All"],
    ]);
  });

  it("refuses the relations' root fields to a caller without the Defender scope, before any call", async () => {
    const scoped = await startStack({ AUTH_MODE: "", AUTH_API_KEYS: "eset-only-key-relations-7c1d9e=eset:users:read" });
    try {
      const res = await scoped.post(
        JSON.stringify({ query: `{ defenderMachine(id: "dc01") { id } defenderAlerts { edges { cursor } } }` }),
        { "x-api-key": "eset-only-key-relations-7c1d9e" },
      );
      expect(res.body.data).toEqual({ defenderMachine: null, defenderAlerts: null });
      expect(codes(res)).toEqual(["FORBIDDEN", "FORBIDDEN"]);
      expect(scoped.sim.count({ source: "DEFENDER", kind: "api" })).toBe(0);
    } finally {
      await scoped.close();
    }
  });
});

describe("the ALERT_EVIDENCE link rule", () => {
  it("links corp\\dmiller to dave.miller@northwind.example only with the alert's User evidence at hand", async () => {
    const plain = await stack.gql(DefenderUserLinksDocument, { id: DEMO.defenderDmiller });
    expect(plain.body.errors).toBeUndefined();
    // "dmiller@corp." finds no ESET mailbox: without evidence the account has no ESET side.
    expect(plain.body.data!.defenderUser!.esetLinks).toEqual([]);

    const res = await stack.gql(DefenderUserEvidenceLinksDocument, { id: DEMO.defenderDmiller, since: sevenDaysAgo() });
    expect(res.body.errors).toBeUndefined();
    const links = res.body.data!.defenderUser!.esetLinks!;
    expect(links).toHaveLength(1);
    expect(links[0]!.esetUser).toMatchObject({ uuid: DEMO.esetDave, protectionStatus: "FULLY_PROTECTED" });
    expect(links[0]!.strongestRule).toBe("DOMAIN_USER");
    // The same address as an identity and as the primary address is one reason, where it was found first.
    expect(links[0]!.matchedOn).toContainEqual({
      rule: "ALERT_EVIDENCE",
      esetField: "identities[0].userName",
      esetValue: "dave.miller@northwind.example",
      defenderValue: DEMO.defenderDmiller,
    });
    // The ESET search used the UPN the evidence names.
    expect(
      stack.sim.requests.some((r) => r.source === "ESET" && decodeURIComponent(r.path).includes("email=dave.miller@northwind.example")),
    ).toBe(true);
  });

  it("adds the reason from ESET's side when a defenderAlerts page with evidence is in the same request", async () => {
    const query = `{
      esetUser(uuid: "${DEMO.esetCarol}") { defenderLinks { strongestRule matchedOn { rule esetField defenderValue } } }
      defenderAlerts(filter: { severities: [INFORMATIONAL], category: "InitialAccess" }) { edges { node { id evidence { userPrincipalName } } } }
    }`;
    const res = await stack.post(JSON.stringify({ query }));
    expect(res.body.errors).toBeUndefined();
    const links = (
      res.body.data as {
        esetUser: {
          defenderLinks: Array<{ strongestRule: string; matchedOn: Array<{ rule: string; esetField: string; defenderValue: string }> }>;
        };
      }
    ).esetUser.defenderLinks;
    const cjones = links.find((l) => l.matchedOn.some((m) => m.defenderValue === DEMO.defenderCjones))!;
    // Carol's primary address is the UPN the evidence names; her proxy address alone made only an EMAIL link.
    expect(cjones.strongestRule).toBe("ALERT_EVIDENCE");
    // Each reason once: the address that is both an identity and the primary address counts once.
    expect(cjones.matchedOn.map((m) => m.rule)).toEqual(["ALERT_EVIDENCE", "EMAIL"]);
  });
});

describe("defenderAlerts", () => {
  it("pages through a filtered list with signed cursors, one call a page, every alert exactly once", async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const res: GraphQLResponse<DefenderAlertsPageQuery> = await stack.gql(DefenderAlertsPageDocument, {
        alertFilter: { severities: ["HIGH", "MEDIUM"], statuses: ["NEW", "IN_PROGRESS"] },
        first: 7,
        after,
      });
      expect(res.body.errors).toBeUndefined();
      const page = res.body.data!.defenderAlerts!;
      pages++;
      expect(page.pageInfo.hasPreviousPage).toBe(after !== null);
      seen.push(...page.edges.map((e) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    const expected = [...stack.sim.defenderAlerts.values()].filter(
      (a) => ["High", "Medium"].includes(String(a.severity)) && ["New", "InProgress"].includes(String(a.status)),
    );
    expect(seen.length).toBe(expected.length);
    expect(new Set(seen).size).toBe(seen.length);
    expect(new Set(seen)).toEqual(new Set(expected.map((a) => String(a.id))));
    expect(api(stack.sim, "alerts.list")).toBe(pages);
    const first = decodeURIComponent(stack.sim.requests.find((r) => r.endpoint === "alerts.list")!.path);
    expect(first).toContain("$filter=(severity eq 'High' or severity eq 'Medium') and (status eq 'InProgress' or status eq 'New')&$top=8");
  });

  it("maps the filter's times and ids onto Defender's OData $filter", async () => {
    const res = await stack.gql(DefenderAlertsPageDocument, {
      alertFilter: { incidentId: "4101", updatedSince: new Date(Date.now() - 30 * DAY).toISOString() },
      first: 10,
      after: null,
    });
    expect(res.body.data!.defenderAlerts!.edges.map((e) => e.node.id).sort()).toEqual([DEMO_ALERTS.aliceHigh, DEMO_ALERTS.aliceShared]);
    expect(res.body.data!.defenderAlerts!.edges[0]!.node).toMatchObject({ incidentId: "4101" });
    expect(decodeURIComponent(stack.sim.requests.at(-1)!.path)).toMatch(
      /\$filter=incidentId eq 4101 and lastUpdateTime ge \d{4}-[^&]+Z&\$top=11$/,
    );
  });

  it("refuses a cursor of another filter, an altered cursor and UNSPECIFIED as a status, before any call", async () => {
    const first = await stack.gql(DefenderAlertsPageDocument, { alertFilter: { severities: ["HIGH"] }, first: 1, after: null });
    const cursor = first.body.data!.defenderAlerts!.pageInfo.endCursor!;
    stack.sim.reset();
    const other = await stack.gql(DefenderAlertsPageDocument, { alertFilter: { severities: ["LOW"] }, first: 1, after: cursor });
    const altered = await stack.gql(DefenderAlertsPageDocument, {
      alertFilter: { severities: ["HIGH"] },
      first: 1,
      // One character of the MAC changed, well before its last, whose low bits base64url decoding ignores:
      // "…AA" for the last two was no change at all when the MAC ended so (1 run in ~256).
      after: `${cursor.slice(0, -5)}${cursor.at(-5) === "A" ? "B" : "A"}${cursor.slice(-4)}`,
    });
    const unspecified = await stack.gql(DefenderAlertsPageDocument, { alertFilter: { statuses: ["UNSPECIFIED"] }, first: 1, after: null });
    for (const res of [other, altered, unspecified]) {
      expect(res.body.data!.defenderAlerts).toBeNull();
      expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
    }
    expect(other.body.errors![0]!.message).toContain("another filter");
    expect(defenderCalls(stack.sim)).toBe(0);
  });
});
