import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv, { type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { DEMO } from "../../src/simulator/demo-data";
import { startSimulator, type Simulator, SIMULATOR_CREDENTIALS, WOODGROVE_CREDENTIALS } from "../../src/simulator/simulator";

/**
 * The simulator's ESET answers must match ESET's own OpenAPI (a copy of shared/specs in test/fixtures), so the tests and demo mode
 * exercise the shapes the real API sends. The spec's object schemas are closed here (no extra properties),
 * so a field the simulator invents or misspells fails too.
 */
const SPEC_PATH = join(__dirname, "..", "fixtures", "eset-connect-user-management.openapi.json");

type Json = Record<string, unknown>;

function closeObjects(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(closeObjects);
  if (typeof node !== "object" || node === null) return;
  const o = node as Json;
  if (o.type === "object" && o.properties && o.additionalProperties === undefined) o.additionalProperties = false;
  Object.values(o).forEach(closeObjects);
}

let sim: Simulator;
let token: string;
let validators: Record<string, ValidateFunction>;

beforeAll(async () => {
  const spec = JSON.parse(readFileSync(SPEC_PATH, "utf8")) as Json;
  closeObjects(spec.components);
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // ESET: createTime/updateTime are "Empty if the timestamp is unknown", so "" is a valid date-time here.
  ajv.addFormat("date-time", { validate: (s: string) => s === "" || /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(s) });
  ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat("int32", { type: "number", validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31 });
  ajv.addSchema({ ...spec, $id: "eset-um" } as Json);
  const paths = spec.paths as Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: Json }> }> }>>;
  const ref = (path: string, method: string) => {
    const schema = paths[path]![method]!.responses["200"]!.content!["application/json"]!.schema;
    return ajv.compile({ $ref: `eset-um${String(schema.$ref)}` });
  };
  validators = {
    get: ref("/v1/users/{userUuid}", "get"),
    batch: ref("/v1/users:batchGetUsers", "post"),
    list: ref("/v1/users", "get"),
  };

  sim = await startSimulator({ extraEsetUsers: 120 });
  const res = await fetch(sim.esetTokenUrl, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "password",
      username: SIMULATOR_CREDENTIALS.esetUsername,
      password: SIMULATOR_CREDENTIALS.esetPassword,
    }),
  });
  token = ((await res.json()) as { access_token: string }).access_token;
});
afterAll(() => sim.close());

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(sim.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, requestId: res.headers.get("request-id"), json: (await res.json()) as unknown };
}

function expectValid(validate: ValidateFunction, json: unknown): void {
  const ok = validate(json);
  expect(validate.errors ?? []).toEqual([]);
  expect(ok).toBe(true);
}

describe("the simulator against ESET's OpenAPI", () => {
  it("answers GET /v1/users/{uuid} for every demo user in the documented shape", async () => {
    const uuids = [...sim.esetUsers.keys()].filter((u) => !u.startsWith("00000000-"));
    expect(uuids.length).toBeGreaterThanOrEqual(30);
    for (const uuid of uuids) {
      const res = await call("GET", `/v1/users/${encodeURIComponent(uuid)}`);
      expect(res.status).toBe(200);
      expect(res.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expectValid(validators.get!, res.json);
    }
  });

  it("answers batchGetUsers in the documented shape and order", async () => {
    const uuids = [DEMO.esetBob, DEMO.esetAlice, DEMO.esetOpaque];
    const res = await call("POST", "/v1/users:batchGetUsers", { usersUuids: uuids });
    expectValid(validators.batch!, res.json);
    expect((res.json as { users: Array<{ uuid: string }> }).users.map((u) => u.uuid)).toEqual(uuids);
  });

  it("answers the user list in the documented shape on every page", async () => {
    let pageToken = "";
    let pages = 0;
    do {
      const res = await call("GET", `/v1/users?pageSize=50&pageToken=${pageToken}`);
      expectValid(validators.list!, res.json);
      pageToken = (res.json as { nextPageToken: string }).nextPageToken;
      pages++;
    } while (pageToken !== "" && pages < 10);
    expect(pages).toBe(Math.ceil(sim.esetUsers.size / 50));
  });

  it("answers filtered lists in the documented shape, with every filter ESET documents", async () => {
    const filters = [
      "protectionStatus=PROTECTION_STATUS_UNPROTECTED&email=contoso",
      "displayName=Generated&userGroupUuid=a1b2c3d4-0000-4000-8000-0000000000a1&hasCloudOfficeMsLicense=true",
      `cloudOfficeTenantReference=${DEMO.tenant}&activeProduct.id=112&activeProduct.autoActivated=true`,
      "activeProduct.autoActivationDetails.base=PRODUCT_AUTO_ACTIVATION_BASE_USER_GROUP&activeProduct.name=ESET_CLOUD_OFFICE_SECURITY",
      `activeProduct.subscriptionUuid=${DEMO.subscription}&activeProduct.unitPoolUuid=${DEMO.unitPool}&activeProduct.autoActivationDetails.userGroupUuid=a1b2c3d4-0000-4000-8000-000000000001`,
      "email=no-such-address",
    ];
    for (const filter of filters) {
      const res = await call("GET", `/v1/users?${filter}&pageSize=20`);
      expect(res.status).toBe(200);
      expectValid(validators.list!, res.json);
    }
  });

  it("catches a field the spec does not have", () => {
    expect(validators.get!({ user: { uuid: "x", email: "typo@example.com" } })).toBe(false);
  });

  it("answers the demo's second tenant (dataset woodgrove) in the documented shape, with its own credentials only", async () => {
    const woodgrove = await startSimulator({ dataset: "woodgrove" });
    try {
      const login = (username: string, password: string) =>
        fetch(woodgrove.esetTokenUrl, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ grant_type: "password", username, password }),
        });
      expect((await login(SIMULATOR_CREDENTIALS.esetUsername, SIMULATOR_CREDENTIALS.esetPassword)).status).toBe(400);
      const own = (await (await login(WOODGROVE_CREDENTIALS.esetUsername, WOODGROVE_CREDENTIALS.esetPassword)).json()) as {
        access_token: string;
      };
      const get = async (path: string) => {
        const res = await fetch(woodgrove.url + path, { headers: { authorization: `Bearer ${own.access_token}` } });
        expect(res.status).toBe(200);
        return (await res.json()) as unknown;
      };
      expect(woodgrove.esetUsers.size).toBe(4);
      for (const uuid of woodgrove.esetUsers.keys()) expectValid(validators.get!, await get(`/v1/users/${uuid}`));
      const list = await get("/v1/users?pageSize=50");
      expectValid(validators.list!, list);
      expect((list as { users: Array<{ uuid: string }> }).users.map((u) => u.uuid).sort()).toEqual([...woodgrove.esetUsers.keys()].sort());
      // Nothing of the first tenant's: Contoso's users are not there.
      expect(woodgrove.esetUsers.has(DEMO.esetAlice)).toBe(false);
    } finally {
      await woodgrove.close();
    }
  });

  it("covers every ESET enum value in the demo data", () => {
    const spec = JSON.parse(readFileSync(SPEC_PATH, "utf8")) as { components: { schemas: Record<string, { enum?: string[] }> } };
    const wire = JSON.stringify([...sim.esetUsers.values()], (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
    for (const name of ["v1ProtectionStatus", "v1IdentityProviderType", "v1IdentityReferenceFormat"]) {
      for (const value of spec.components.schemas[name]!.enum!) {
        if (value === "PROTECTION_STATUS_UNSPECIFIED") continue; // grpc-gateway omits defaults: the opaque user has none
        expect(`${name}:${wire.includes(`"${value}"`)}`).toBe(`${name}:true`);
      }
    }
  });
});

/**
 * The simulator's Defender machines, alerts and log-on users against the documented property tables
 * (UPSTREAMS.md §5.2 machine, §5.3 alert with the shapes its examples show, §1.2 user). Objects are closed:
 * a property the docs do not name, or a documented one of the wrong type, fails.
 */
describe("the simulator against Defender's documented machine, alert and user entities", () => {
  const str = { type: ["string", "null"] };
  const time = { type: ["string", "null"], format: "date-time" };
  const int = { type: ["integer", "null"] };
  const oneOf = (values: string[], nullable = false) => ({ enum: nullable ? [...values, null] : values });
  const closed = (properties: Record<string, unknown>, required: string[] = ["id"]) => ({
    type: "object",
    properties,
    required,
    additionalProperties: false,
  });
  const context = { type: "string" };

  const machine = closed({
    "@odata.context": context,
    id: { type: "string", pattern: "^[0-9a-f]{40}$" },
    computerDnsName: str,
    firstSeen: time,
    lastSeen: time,
    osPlatform: str,
    onboardingStatus: oneOf(["onboarded", "CanBeOnboarded", "Unsupported", "InsufficientInfo"], true),
    osProcessor: str,
    version: str,
    osBuild: int,
    lastIpAddress: str,
    lastExternalIpAddress: str,
    healthStatus: oneOf(["Active", "Inactive", "ImpairedCommunication", "NoSensorData", "NoSensorDataImpairedCommunication", "Unknown"]),
    rbacGroupName: str,
    // The table says String; the example shows a number (140).
    rbacGroupId: { type: ["string", "integer", "null"] },
    riskScore: oneOf(["None", "Informational", "Low", "Medium", "High"], true),
    aadDeviceId: { type: ["string", "null"], format: "uuid" },
    machineTags: { type: "array", items: { type: "string" } },
    exposureLevel: oneOf(["None", "Low", "Medium", "High"], true),
    deviceValue: oneOf(["Normal", "Low", "High"], true),
    ipAddresses: {
      type: "array",
      items: closed({ ipAddress: { type: "string" }, macAddress: str, operationalStatus: str }, ["ipAddress"]),
    },
    osArchitecture: oneOf(["32-bit", "64-bit"], true),
    // Example-only field [D:get-machines.md].
    isAadJoined: { type: ["boolean", "null"] },
  });

  const evidenceItem = closed(
    {
      entityType: { type: "string" },
      evidenceCreationTime: time,
      ...Object.fromEntries(
        [
          "sha1",
          "sha256",
          "fileName",
          "filePath",
          "processCommandLine",
          "parentProcessFileName",
          "parentProcessFilePath",
          "ipAddress",
          "url",
        ].map((k) => [k, str]),
      ),
      processId: int,
      parentProcessId: int,
      processCreationTime: time,
      parentProcessCreationTime: time,
      ...Object.fromEntries(
        [
          "registryKey",
          "registryHive",
          "registryValueType",
          "registryValue",
          "accountName",
          "domainName",
          "userSid",
          "aadUserId",
          "userPrincipalName",
          "detectionStatus",
        ].map((k) => [k, str]),
      ),
    },
    ["entityType"],
  );

  const alert = closed({
    "@odata.context": context,
    id: { type: "string" },
    title: str,
    description: str,
    alertCreationTime: time,
    lastEventTime: time,
    firstEventTime: time,
    lastUpdateTime: time,
    resolvedTime: time,
    incidentId: int,
    investigationId: int,
    investigationState: oneOf(
      [
        "Unknown",
        "Terminated",
        "SuccessfullyRemediated",
        "Benign",
        "Failed",
        "PartiallyRemediated",
        "Running",
        "PendingApproval",
        "PendingResource",
        "PartiallyInvestigated",
        "TerminatedByUser",
        "TerminatedBySystem",
        "Queued",
        "InnerFailure",
        "PreexistingAlert",
        "UnsupportedOs",
        "UnsupportedAlertType",
        "SuppressedAlert",
      ],
      true,
    ),
    assignedTo: str,
    rbacGroupName: str,
    // The table says String for both; the examples show an array and an object, which is what the API sends.
    mitreTechniques: { type: "array", items: { type: "string" } },
    relatedUser: { oneOf: [{ type: "null" }, closed({ userName: { type: "string" }, domainName: str }, ["userName"])] },
    severity: oneOf(["UnSpecified", "Informational", "Low", "Medium", "High"]),
    status: oneOf(["Unknown", "New", "InProgress", "Resolved"]),
    classification: oneOf(["TruePositive", "Informational, expected activity", "FalsePositive"], true),
    determination: oneOf(
      [
        "MultiStagedAttack",
        "MaliciousUserActivity",
        "CompromisedUser",
        "Malware",
        "Phishing",
        "UnwantedSoftware",
        "Other",
        "SecurityTesting",
        "LineOfBusinessApplication",
        "ConfirmedUserActivity",
        "Clean",
        "InsufficientData",
      ],
      true,
    ),
    category: str,
    detectionSource: str,
    threatFamilyName: str,
    threatName: str,
    machineId: str,
    computerDnsName: str,
    aadTenantId: str,
    detectorId: str,
    comments: { type: "array", items: closed({ comment: str, createdBy: str, createdTime: time }, ["comment"]) },
    evidence: { type: "array", items: evidenceItem },
  });

  const user = closed({
    id: { type: "string" },
    accountName: str,
    accountDomain: str,
    // The early-preview name, still listed by Splunk SOAR (UPSTREAMS.md §1.2).
    accountDomainName: str,
    accountSid: str,
    firstSeen: time,
    lastSeen: time,
    mostPrevalentMachineId: str,
    leastPrevalentMachineId: str,
    logonTypes: str,
    logOnMachinesCount: int,
    isDomainAdmin: { type: ["boolean", "null"] },
    isOnlyNetworkUser: { type: ["boolean", "null"] },
  });

  let defenderToken: string;
  let check: { machine: ValidateFunction; alert: ValidateFunction; user: ValidateFunction };
  beforeAll(async () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    check = { machine: ajv.compile(machine), alert: ajv.compile(alert), user: ajv.compile(user) };
    const res = await fetch(sim.defenderTokenUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: SIMULATOR_CREDENTIALS.clientId,
        client_secret: SIMULATOR_CREDENTIALS.clientSecret,
        scope: SIMULATOR_CREDENTIALS.scope,
      }),
    });
    defenderToken = ((await res.json()) as { access_token: string }).access_token;
  });

  async function defender(path: string): Promise<Json> {
    const res = await fetch(sim.url + path, { headers: { authorization: `Bearer ${defenderToken}` } });
    expect(res.status).toBe(200);
    return (await res.json()) as Json;
  }
  const values = (json: Json) => json.value as Json[];

  it("answers every machine, alone and listed, in the documented machine shape", async () => {
    const all = values(await defender("/api/machines"));
    expect(all.length).toBeGreaterThanOrEqual(30);
    for (const m of all) expectValid(check.machine, m);
    for (const m of all.slice(0, 10)) expectValid(check.machine, await defender(`/api/machines/${m.id as string}`));
  });

  it("answers every alert, with its evidence, in the documented alert shape", async () => {
    const all = values(await defender("/api/alerts?$expand=evidence"));
    expect(all.length).toBeGreaterThanOrEqual(10);
    expect(
      all.some((a) => (a.evidence as Json[]).some((e) => e.entityType === "User" && e.userPrincipalName && e.accountName && e.domainName)),
    ).toBe(true);
    for (const a of all) expectValid(check.alert, a);
    expectValid(check.alert, await defender(`/api/alerts/${encodeURIComponent(all[0]!.id as string)}?$expand=evidence`));
  });

  it("answers the demo's second tenant's machines, alerts and log-on users (dataset woodgrove) in the documented shapes", async () => {
    const woodgrove = await startSimulator({ dataset: "woodgrove" });
    try {
      const res = await fetch(woodgrove.defenderTokenUrl, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "client_credentials",
          client_id: WOODGROVE_CREDENTIALS.clientId,
          client_secret: WOODGROVE_CREDENTIALS.clientSecret,
          scope: WOODGROVE_CREDENTIALS.scope,
        }),
      });
      expect(res.status).toBe(200);
      const token = ((await res.json()) as { access_token: string }).access_token;
      const get = async (path: string) => {
        const answer = await fetch(woodgrove.url + path, { headers: { authorization: `Bearer ${token}` } });
        expect(answer.status).toBe(200);
        return (await answer.json()) as Json;
      };
      const machines = values(await get("/api/machines"));
      expect(machines.map((m) => m.computerDnsName as string).every((n) => n.endsWith(".woodgrovebank.com"))).toBe(true);
      for (const m of machines) {
        expectValid(check.machine, m);
        for (const u of values(await get(`/api/machines/${m.id as string}/logonusers`))) expectValid(check.user, u);
      }
      const alerts = values(await get("/api/alerts?$expand=evidence"));
      expect(alerts.length).toBe(3);
      for (const a of alerts) expectValid(check.alert, a);
      for (const u of woodgrove.defenderUsers.values()) expectValid(check.user, u);
    } finally {
      await woodgrove.close();
    }
  });

  it("answers every machine's logged-on users in the documented user shape", async () => {
    for (const m of values(await defender("/api/machines"))) {
      for (const u of values(await defender(`/api/machines/${m.id as string}/logonusers`))) expectValid(check.user, u);
    }
  });

  it("catches a property the tables do not have, and the type the tables claim but the API does not send", () => {
    expect(check.machine({ id: "0".repeat(40), healthStatus: "Active", machineTags: [], ipAddresses: [], osBuildNumber: 1 })).toBe(false);
    expect(check.alert({ id: "a", severity: "High", status: "New", mitreTechniques: "T1059", comments: [], evidence: [] })).toBe(false);
    expect(
      check.alert({
        id: "a",
        severity: "High",
        status: "New",
        mitreTechniques: [],
        relatedUser: "contoso\\alice",
        comments: [],
        evidence: [],
      }),
    ).toBe(false);
  });

  it("covers every documented machine health, risk score, alert severity and alert status", async () => {
    const machines = values(await defender("/api/machines"));
    const alerts = values(await defender("/api/alerts"));
    const seen = (items: Json[], key: string) => [...new Set(items.map((x) => x[key]))].filter((v) => v !== null).sort();
    expect(seen(machines, "healthStatus")).toEqual([
      "Active",
      "ImpairedCommunication",
      "Inactive",
      "NoSensorData",
      "NoSensorDataImpairedCommunication",
      "Unknown",
    ]);
    expect(seen(machines, "riskScore")).toEqual(["High", "Informational", "Low", "Medium", "None"]);
    expect(seen(alerts, "severity")).toEqual(["High", "Informational", "Low", "Medium", "UnSpecified"]);
    expect(seen(alerts, "status")).toEqual(["InProgress", "New", "Resolved", "Unknown"]);
  });
});
