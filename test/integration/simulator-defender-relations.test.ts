import { DEMO, demoData } from "../../src/simulator/demo-data";
import { benchRelations, DEMO_ALERTS, DEMO_MACHINES, demoRelations } from "../../src/simulator/defender-relations";
import { startSimulator, type Simulator, SIMULATOR_CREDENTIALS } from "../../src/simulator/simulator";

/**
 * The simulator's Defender machines, alerts and log-on users, spoken over HTTP as UPSTREAMS.md §5 documents
 * them: each endpoint, the not-found behaviours, OData $filter/$top/$skip/@odata.nextLink, per-endpoint
 * permissions and fault injection on the new paths.
 */

type Json = Record<string, unknown>;
interface Collection {
  "@odata.context": string;
  "@odata.nextLink"?: string;
  value: Json[];
}

let sim: Simulator;
let token: string;
const DAY = 86_400_000;

beforeAll(async () => {
  sim = await startSimulator({ extraDefenderUsers: 30, extraDefenderMachines: 40, extraDefenderAlerts: 230 });
  token = await defenderToken(sim);
});
afterAll(() => sim.close());
afterEach(() => sim.reset());

async function defenderToken(s: Simulator): Promise<string> {
  const res = await fetch(s.defenderTokenUrl, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: SIMULATOR_CREDENTIALS.clientId,
      client_secret: SIMULATOR_CREDENTIALS.clientSecret,
      scope: SIMULATOR_CREDENTIALS.scope,
    }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

async function get(pathOrUrl: string, bearer = token): Promise<{ status: number; json: Json }> {
  const url = pathOrUrl.startsWith("http") ? pathOrUrl : sim.url + pathOrUrl;
  const res = await fetch(url, { headers: { authorization: `Bearer ${bearer}` } });
  const text = await res.text();
  return { status: res.status, json: text === "" ? {} : (JSON.parse(text) as Json) };
}

const list = (json: Json) => json as unknown as Collection;
const ids = (json: Json) => list(json).value.map((x) => x.id as string);
const enc = encodeURIComponent;
const errorCode = (json: Json) => (json.error as { code: string; message: string; target: string }).code;

describe("machines", () => {
  it("answers GET /api/machines/{id} by device id, computer DNS name and computer name", async () => {
    for (const key of [DEMO_MACHINES.aliceLaptop, "alice-laptop.contoso.com", "ALICE-LAPTOP"]) {
      const res = await get(`/api/machines/${enc(key)}`);
      expect(res.status).toBe(200);
      expect(res.json.id).toBe(DEMO_MACHINES.aliceLaptop);
      expect(res.json["@odata.context"]).toBe(`${sim.url}/api/$metadata#Machines/$entity`);
      expect(res.json.riskScore).toBe("High");
    }
  });

  it("sends an osBuild beyond 2^53 as an exact JSON number", async () => {
    const res = await fetch(`${sim.url}/api/machines/${DEMO_MACHINES.testMachine}`, { headers: { authorization: `Bearer ${token}` } });
    expect(await res.text()).toContain('"osBuild":9007199254740993');
  });

  it("answers 404 with Defender's error body for an unknown machine on every machine path", async () => {
    for (const path of ["", "/logonusers", "/alerts"]) {
      const res = await get(`/api/machines/0000000000000000000000000000000000000000${path}`);
      expect(res.status).toBe(404);
      expect(res.json.error).toEqual({
        code: "ResourceNotFound",
        message: expect.stringContaining("was not found"),
        target: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
    }
  });

  it("lists the logged-on users of the shared server, in the user entity's shape", async () => {
    const res = await get(`/api/machines/${DEMO_MACHINES.sharedServer}/logonusers`);
    expect(res.status).toBe(200);
    expect(res.json["@odata.context"]).toBe(`${sim.url}/api/$metadata#Users`);
    expect(ids(res.json)).toEqual(expect.arrayContaining([DEMO.defenderAlice, "contoso\\user1", "contoso\\svc-backup", "fabrikam\\bob"]));
    expect(ids(res.json).length).toBeGreaterThanOrEqual(5);
    const alice = list(res.json).value.find((u) => u.id === DEMO.defenderAlice)!;
    expect(alice.logonTypes).toBe("Network, RemoteInteractive");
  });

  it("answers GET /api/users/{id}/machines by domain\\user and by bare user name, and [] for an unknown user", async () => {
    const byDomain = await get(`/api/users/${enc(DEMO.defenderAlice)}/machines`);
    expect(byDomain.status).toBe(200);
    expect(ids(byDomain.json).sort()).toEqual([DEMO_MACHINES.aliceLaptop, DEMO_MACHINES.sharedServer].sort());
    const byName = await get("/api/users/alice/machines");
    expect(ids(byName.json).sort()).toEqual(ids(byDomain.json).sort());
    const unknown = await get("/api/users/nobody-here/machines");
    expect(unknown.status).toBe(200);
    expect(list(unknown.json).value).toEqual([]);
  });

  it("lets every demo user's most prevalent machine resolve", async () => {
    const missing: string[] = [];
    for (const user of sim.defenderUsers.values()) {
      const id = user.mostPrevalentMachineId;
      if (typeof id === "string" && (await get(`/api/machines/${id}`)).status !== 200) missing.push(String(user.id));
    }
    expect(missing).toEqual([]);
  });
});

describe("alerts", () => {
  it("answers GET /api/alerts/{id} without evidence, and with it under $expand=evidence", async () => {
    const plain = await get(`/api/alerts/${DEMO_ALERTS.aliceHigh}`);
    expect(plain.status).toBe(200);
    expect(plain.json["@odata.context"]).toBe(`${sim.url}/api/$metadata#Alerts/$entity`);
    expect(plain.json.evidence).toEqual([]);
    expect(plain.json.relatedUser).toEqual({ userName: "alice", domainName: "CONTOSO" });
    expect(plain.json.mitreTechniques).toEqual(["T1059.001", "T1105", "T1027"]);
    expect((plain.json.comments as Json[])[0]).toEqual({
      comment: expect.any(String),
      createdBy: "soc-lead@contoso.com",
      createdTime: expect.any(String),
    });
    const expanded = await get(`/api/alerts/${DEMO_ALERTS.aliceHigh}?$expand=evidence`);
    const user = (expanded.json.evidence as Json[]).find((e) => e.entityType === "User")!;
    expect(user).toMatchObject({ accountName: "alice", domainName: "CONTOSO", userPrincipalName: "alice@contoso.com" });
    expect(Object.keys(user)).toHaveLength(25);
  });

  it("answers 404 for an unknown alert, and the alert's user and machine", async () => {
    expect((await get("/api/alerts/da000_1")).status).toBe(404);
    expect(errorCode((await get("/api/alerts/da000_1")).json)).toBe("ResourceNotFound");
    const user = await get(`/api/alerts/${DEMO_ALERTS.dmillerRansomware}/user`);
    expect(user.json.id).toBe(DEMO.defenderDmiller);
    const machine = await get(`/api/alerts/${DEMO_ALERTS.dmillerRansomware}/machine`);
    expect(machine.json.computerDnsName).toBe("hotdesk-05.contoso.com");
    expect((await get(`/api/alerts/${DEMO_ALERTS.testMachineNoUser}/user`)).status).toBe(404);
  });

  it("answers GET /api/users/{id}/alerts by domain\\user and by name, and [] for an unknown user", async () => {
    const alice = await get(`/api/users/${enc(DEMO.defenderAlice)}/alerts`);
    expect(alice.status).toBe(200);
    expect(ids(alice.json).sort()).toEqual([DEMO_ALERTS.aliceHigh, DEMO_ALERTS.aliceShared].sort());
    expect(ids((await get("/api/users/alice/alerts")).json).sort()).toEqual(ids(alice.json).sort());
    const unknown = await get(`/api/users/${enc("contoso\\nobody")}/alerts`);
    expect(unknown.status).toBe(200);
    expect(list(unknown.json).value).toEqual([]);
  });

  it("answers GET /api/machines/{id}/alerts for the hot desk's two people", async () => {
    const res = await get(`/api/machines/${DEMO_MACHINES.hotDesk}/alerts`);
    expect(ids(res.json).sort()).toEqual([DEMO_ALERTS.dmillerRansomware, DEMO_ALERTS.cjonesInfo].sort());
  });

  it("tells the demo story: recent active alerts for alice and dmiller, an old resolved one for user1", async () => {
    const now = Date.now();
    const all = list((await get("/api/alerts?$expand=evidence")).json).value;
    const byId = new Map(all.map((a) => [a.id as string, a]));
    const high = byId.get(DEMO_ALERTS.aliceHigh)!;
    expect(high).toMatchObject({ severity: "High", status: "New", machineId: DEMO_MACHINES.aliceLaptop });
    expect(now - Date.parse(high.alertCreationTime as string)).toBeLessThan(3 * DAY);
    expect(byId.get(DEMO_ALERTS.dmillerRansomware)).toMatchObject({ severity: "High", status: "New" });
    const old = byId.get(DEMO_ALERTS.user1Resolved)!;
    expect(old.status).toBe("Resolved");
    expect(now - Date.parse(old.resolvedTime as string)).toBeGreaterThan(30 * DAY);
    const dmillerUpn = (byId.get(DEMO_ALERTS.dmillerRansomware)!.evidence as Json[]).find(
      (e) => e.entityType === "User",
    )!.userPrincipalName;
    expect(dmillerUpn).toBe("dave.miller@northwind.example");
  });
});

describe("OData on the list endpoints", () => {
  const since = (days: number) => new Date(Date.now() - days * DAY).toISOString();

  it("filters alerts by lastUpdateTime, severity, status and 'and'", async () => {
    const recent = list((await get(`/api/alerts?$filter=lastUpdateTime+ge+${since(7)}`)).json).value;
    expect(recent.length).toBeGreaterThan(0);
    expect(recent.every((a) => Date.parse(a.lastUpdateTime as string) >= Date.now() - 7 * DAY - 60_000)).toBe(true);
    expect(recent.map((a) => a.id)).not.toContain(DEMO_ALERTS.user1Resolved);
    const highNew = list(
      (await get(`/api/alerts?$filter=${enc(`severity eq 'High' and status eq 'New' and alertCreationTime ge ${since(7)}`)}`)).json,
    ).value;
    expect(highNew.map((a) => a.id)).toEqual(expect.arrayContaining([DEMO_ALERTS.aliceHigh, DEMO_ALERTS.dmillerRansomware]));
    expect(highNew.every((a) => a.severity === "High" && a.status === "New")).toBe(true);
    const either = list(
      (await get(`/api/alerts?$filter=${enc("(status eq 'Resolved' or status eq 'Unknown') and incidentId eq 3007")}`)).json,
    ).value;
    expect(either.map((a) => a.id)).toEqual([DEMO_ALERTS.user1Resolved]);
  });

  it("filters machines by healthStatus, riskScore, lastSeen and computerDnsName", async () => {
    const high = list((await get("/api/machines?$filter=riskScore+eq+'High'")).json).value;
    expect(high.map((m) => m.id)).toEqual(expect.arrayContaining([DEMO_MACHINES.aliceLaptop, DEMO_MACHINES.hotDesk]));
    expect(high.every((m) => m.riskScore === "High")).toBe(true);
    const notActive = list((await get("/api/machines?$filter=healthStatus+ne+'Active'&$top=100")).json).value;
    expect(notActive.map((m) => m.id)).toContain(DEMO_MACHINES.backupServer);
    expect(notActive.some((m) => m.healthStatus === "Active")).toBe(false);
    const seen = list((await get(`/api/machines?$filter=lastSeen gt ${since(1)}`)).json).value;
    expect(seen.map((m) => m.id)).toContain(DEMO_MACHINES.aliceLaptop);
    expect(seen.map((m) => m.id)).not.toContain(DEMO_MACHINES.backupServer);
    const byName = list((await get(`/api/machines?$filter=${enc("computerDnsName eq 'fs01.contoso.com'")}`)).json).value;
    expect(byName.map((m) => m.id)).toEqual([DEMO_MACHINES.sharedServer]);
  });

  it("refuses an undocumented filter property, function or option with Defender's 400 ODataError", async () => {
    for (const query of [
      `$filter=${enc("relatedUser eq 'alice'")}`,
      `$filter=${enc("machineId eq 'x'")}`,
      `$filter=${enc("contains(title, 'x')")}`,
      `$filter=${enc("severity eq")}`,
      "$orderby=severity",
      "$top=10001",
      "$skip=-1",
      "$expand=machine",
    ]) {
      const res = await get(`/api/alerts?${query}`);
      expect(`${query}:${res.status}`).toBe(`${query}:400`);
      expect(errorCode(res.json)).toBe("ODataError");
    }
    expect((await get("/api/machines?$expand=evidence")).status).toBe(400);
  });

  it("pages alerts with $top and @odata.nextLink, visiting every alert exactly once", async () => {
    const filter = `lastUpdateTime ge ${since(8)}`;
    const seen: string[] = [];
    let url: string | undefined = `/api/alerts?$filter=${enc(filter)}&$top=25&$expand=evidence`;
    let pages = 0;
    while (url !== undefined && pages < 50) {
      const res = await get(url);
      expect(res.status).toBe(200);
      const page = list(res.json);
      seen.push(...page.value.map((a) => a.id as string));
      expect(page.value.map((a) => a.evidence)).toEqual(page.value.map((a) => sim.defenderAlerts.get(a.id as string)!.evidence));
      url = page["@odata.nextLink"];
      if (url !== undefined) {
        expect(url.startsWith(`${sim.url}/api/alerts?`)).toBe(true);
        expect(new URL(url).searchParams.get("$filter")).toBe(filter);
      }
      pages++;
    }
    const expected = [...sim.defenderAlerts.values()].filter((a) => Date.parse(a.lastUpdateTime as string) >= Date.parse(since(8)));
    expect(expected.length).toBeGreaterThan(230);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.sort()).toEqual(expected.map((a) => a.id as string).sort());
    expect(pages).toBe(Math.ceil(expected.length / 25));
  });

  it("skips with $skip, and sends no nextLink on the last page", async () => {
    const all = ids((await get("/api/alerts")).json);
    const page = await get("/api/alerts?$skip=5&$top=3");
    expect(ids(page.json)).toEqual(all.slice(5, 8));
    const last = await get(`/api/alerts?$skip=${all.length - 2}&$top=5`);
    expect(ids(last.json)).toEqual(all.slice(-2));
    expect(list(last.json)["@odata.nextLink"]).toBeUndefined();
  });
});

describe("permissions", () => {
  it("answers 403 on alert endpoints only when the token lacks Alert.Read.All", async () => {
    sim.setDefenderRoles(["User.Read.All", "Machine.Read.All"]);
    for (const path of [
      "/api/alerts",
      `/api/alerts/${DEMO_ALERTS.aliceHigh}`,
      `/api/users/${enc(DEMO.defenderAlice)}/alerts`,
      `/api/machines/${DEMO_MACHINES.aliceLaptop}/alerts`,
    ]) {
      const res = await get(path);
      expect(`${path}:${res.status}`).toBe(`${path}:403`);
      expect(res.json.error).toMatchObject({ code: "Forbidden", message: expect.stringContaining("Alert.Read.All") });
    }
    expect((await get(`/api/users/${enc(DEMO.defenderAlice)}`)).status).toBe(200);
    expect((await get(`/api/machines/${DEMO_MACHINES.aliceLaptop}`)).status).toBe(200);
    expect((await get(`/api/users/${enc(DEMO.defenderAlice)}/machines`)).status).toBe(200);
  });

  it("answers 403 on machine endpoints only when the token lacks Machine.Read.All, to new tokens too", async () => {
    sim.setDefenderRoles(["User.Read.All", "Alert.Read.All"]);
    const fresh = await defenderToken(sim);
    for (const bearer of [token, fresh]) {
      for (const path of [
        "/api/machines",
        `/api/machines/${DEMO_MACHINES.aliceLaptop}`,
        `/api/users/${enc(DEMO.defenderAlice)}/machines`,
      ]) {
        const res = await get(path, bearer);
        expect(`${path}:${res.status}`).toBe(`${path}:403`);
        expect(errorCode(res.json)).toBe("Forbidden");
      }
      expect((await get(`/api/users/${enc(DEMO.defenderAlice)}`, bearer)).status).toBe(200);
      expect((await get(`/api/users/${enc(DEMO.defenderAlice)}/alerts`, bearer)).status).toBe(200);
      // Log-on users need User.Read.All only (UPSTREAMS.md §5.1).
      expect((await get(`/api/machines/${DEMO_MACHINES.aliceLaptop}/logonusers`, bearer)).status).toBe(200);
    }
  });

  it("can require Machine.ReadWrite.All for a user's machines, as the current docs say", async () => {
    sim.userMachinesNeedReadWrite = true;
    expect((await get(`/api/users/${enc(DEMO.defenderAlice)}/machines`)).status).toBe(403);
    sim.setDefenderRoles(["Machine.ReadWrite.All"]);
    expect((await get(`/api/users/${enc(DEMO.defenderAlice)}/machines`)).status).toBe(200);
  });

  it("issues tokens with a constructor option's roles", async () => {
    const narrow = await startSimulator({ defenderRoles: ["User.Read.All"] });
    try {
      const t = await defenderToken(narrow);
      const alerts = await fetch(`${narrow.url}/api/alerts`, { headers: { authorization: `Bearer ${t}` } });
      expect(alerts.status).toBe(403);
      const user = await fetch(`${narrow.url}/api/users/${enc(DEMO.defenderAlice)}`, { headers: { authorization: `Bearer ${t}` } });
      expect(user.status).toBe(200);
    } finally {
      await narrow.close();
    }
  });
});

describe("faults and counting on the new paths", () => {
  it("injects a fault on one endpoint family and leaves the others alone", async () => {
    sim.inject({ target: "defender-alerts", kind: "status", status: 429, headers: { "retry-after": "3" }, times: 2 });
    expect((await get(`/api/users/${enc(DEMO.defenderAlice)}`)).status).toBe(200);
    expect((await get(`/api/machines/${DEMO_MACHINES.aliceLaptop}`)).status).toBe(200);
    const limited = await get("/api/alerts");
    expect(limited.status).toBe(429);
    expect(errorCode(limited.json)).toBe("TooManyRequests");
    expect((await get(`/api/users/${enc(DEMO.defenderAlice)}/alerts`)).status).toBe(429);
    expect((await get("/api/alerts")).status).toBe(200);
  });

  it("narrows a fault to one endpoint, and 'defender' still covers every Defender path", async () => {
    sim.inject({ target: "defender-machines", endpoint: "machines.list", kind: "status", status: 503 });
    expect((await get(`/api/machines/${DEMO_MACHINES.aliceLaptop}`)).status).toBe(200);
    expect((await get("/api/machines")).status).toBe(503);
    sim.inject({ target: "defender", kind: "bad-json" });
    const res = await fetch(`${sim.url}/api/machines/${DEMO_MACHINES.aliceLaptop}/logonusers`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await res.text()).toContain("<html>");
  });

  it("records which endpoint and family each request went to", async () => {
    await get("/api/alerts?$top=1");
    await get(`/api/users/${enc(DEMO.defenderAlice)}/alerts`);
    await get(`/api/users/${enc(DEMO.defenderAlice)}/machines`);
    await get(`/api/users/${enc(DEMO.defenderAlice)}`);
    await get(`/api/machines/${DEMO_MACHINES.sharedServer}/logonusers`);
    expect(sim.count({ family: "alerts" })).toBe(2);
    expect(sim.count({ endpoint: "alerts.list" })).toBe(1);
    expect(sim.count({ endpoint: "users.alerts" })).toBe(1);
    expect(sim.count({ family: "machines" })).toBe(1);
    expect(sim.count({ family: "users" })).toBe(2);
    expect(sim.count({ pathIncludes: "/logonusers" })).toBe(1);
    expect(sim.requests.find((r) => r.endpoint === "users.alerts")!.id).toBe(DEMO.defenderAlice);
  });
});

describe("generated data for benchmarks", () => {
  it("generates machines and alerts tied to the generated users, with alerts in the last 7 days", async () => {
    const machine = await get(`/api/machines/${enc("bench-000003.bench.local")}`);
    expect(machine.status).toBe(200);
    const user = await get(`/api/users/${enc("bench\\user000003")}`);
    expect(user.json.mostPrevalentMachineId).toBe(machine.json.id);
    const alerts = list((await get(`/api/users/${enc("bench\\user000003")}/alerts`)).json).value;
    expect(alerts.length).toBeGreaterThan(0);
    expect(alerts.every((a) => Date.now() - Date.parse(a.lastUpdateTime as string) < 7 * DAY)).toBe(true);
    expect(ids((await get(`/api/machines/${machine.json.id as string}/logonusers`)).json)).toEqual(["bench\\user000003"]);
  });

  it("is deterministic: the data is a function of the start time", async () => {
    const users = demoData().defender;
    const wire = (value: unknown) => JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
    const again = await startSimulator({ extraDefenderUsers: 30, extraDefenderMachines: 40, extraDefenderAlerts: 230 });
    try {
      expect(wire([...again.defenderAlerts.keys(), ...again.defenderMachines.keys()])).toBe(
        wire([...sim.defenderAlerts.keys(), ...sim.defenderMachines.keys()]),
      );
      const demo = demoRelations(users, sim.startedAt);
      const bench = benchRelations(40, 230, 30, sim.startedAt);
      expect(wire([...sim.defenderAlerts.values()])).toBe(wire([...demo.alerts, ...bench.alerts]));
      expect(wire([...sim.defenderMachines.values()])).toBe(wire([...demo.machines, ...bench.machines]));
    } finally {
      await again.close();
    }
  });
});
