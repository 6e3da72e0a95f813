import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv, { type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { DEMO } from "../../src/simulator/demo-data";
import { startSimulator, type Simulator, SIMULATOR_CREDENTIALS } from "../../src/simulator/simulator";

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
    body: new URLSearchParams({ grant_type: "password", username: SIMULATOR_CREDENTIALS.esetUsername, password: SIMULATOR_CREDENTIALS.esetPassword }),
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
