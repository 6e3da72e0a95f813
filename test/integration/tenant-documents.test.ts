import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { print } from "graphql";
import { DefenderUserDocument } from "../__generated__/operations";
import { startSimulator, type Simulator } from "../../src/simulator/simulator";
import { codes, startGatewayOn, type GatewayClient, type GraphQLResponse } from "../helpers/stack";
import { TENANT_SECRETS, tempDir, tenantEntry, writeTenantsFile } from "../helpers/tenants";

/**
 * Trusted documents per tenant (docs/tenants.md, "Trusted documents per tenant"): a tenant's own manifests
 * (TENANTS_FILE `documents`) are trusted for the callers who see it and for no one else. For a caller of A,
 * a document only B registered is word for word an unknown document, however it is sent (whole, by
 * documentId, by APQ hash), and nothing reaches B's simulator.
 */
const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
const KEY_A = "tenant-docs-a-key-0123456789";
const KEY_B = "tenant-docs-b-key-0123456789";
const KEY_AB = "tenant-docs-ab-key-0123456789";
/** In B's simulator only (generated users). */
const B_ONLY = "bench\\user000001";

/** Registered by B's manifest only. */
const ONLY_B = "query OnlyB($id: ID!) { defenderUser(id: $id) { id accountName } }";
/** Registered by B's manifest only, asked under tenant(id:) (for a caller of several tenants). */
const ONLY_B_UNDER = "query OnlyBUnder($t: ID!, $id: ID!) { tenant(id: $t) { defenderUser(id: $id) { id } } }";
/** Registered by TRUSTED_DOCUMENTS_MANIFESTS: every caller's. */
const GLOBAL = "query GlobalDoc($id: ID!) { defenderUser(id: $id) { accountName } }";
/** Registered by nobody. */
const UNKNOWN = "query OnlyB($id: ID!) { defenderUser(id: $id) { id accountSid } }";
/** Added to B's second manifest by the reload test. */
const ADDED = "query AddedForB($id: ID!) { defenderUser(id: $id) { id } }";

const codegen = (...docs: string[]) => JSON.stringify(Object.fromEntries(docs.map((d) => [sha256(d), d])));

let simA: Simulator;
let simB: Simulator;
let env: Record<string, string>;
let reloadedManifest: string;

beforeAll(async () => {
  [simA, simB] = await Promise.all([startSimulator(), startSimulator({ extraDefenderUsers: 3 })]);
  const dir = tempDir("usergraph-tenant-docs-");
  writeFileSync(join(dir, "b.json"), codegen(ONLY_B, ONLY_B_UNDER));
  reloadedManifest = join(dir, "b-reloaded.json");
  writeFileSync(reloadedManifest, codegen());
  writeFileSync(join(dir, "global.json"), codegen(GLOBAL));
  const file = writeTenantsFile(dir, [
    tenantEntry("a", simA),
    // Relative to the file's directory.
    tenantEntry("b", simB, undefined, { documents: ["b.json", "b-reloaded.json"] }),
  ]);
  env = {
    TENANTS_FILE: file,
    ...TENANT_SECRETS,
    AUTH_MODE: "",
    AUTH_API_KEYS: `${KEY_A}@a,${KEY_B}@b,${KEY_AB}@a+b`,
    TRUSTED_DOCUMENTS_MANIFESTS: join(dir, "global.json"),
  };
});
afterAll(() => Promise.all([simA?.close(), simB?.close()]));
beforeEach(() => {
  simA.reset();
  simB.reset();
});

type Res = GraphQLResponse<Record<string, any>>;
const send = (gw: GatewayClient, key: string, body: Record<string, unknown>) =>
  gw.post(JSON.stringify(body), { "x-api-key": key }) as Promise<Res>;
const whole = (gw: GatewayClient, key: string, query: string, variables: Record<string, unknown> = { id: B_ONLY }) =>
  send(gw, key, { query, variables });
const byId = (gw: GatewayClient, key: string, doc: string, variables: Record<string, unknown> = { id: B_ONLY }) =>
  send(gw, key, { documentId: `sha256:${sha256(doc)}`, variables });
const byHash = (gw: GatewayClient, key: string, doc: string, variables: Record<string, unknown> = { id: B_ONLY }) =>
  send(gw, key, { variables, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(doc) } } });

async function untrusted(gw: GatewayClient, action: "refused" | "logged"): Promise<number> {
  const { values } = await gw.gateway.metrics.untrustedDocuments.get();
  return values.find((v) => v.labels.action === action)?.value ?? 0;
}

describe("TRUSTED_DOCUMENTS=enforce with a tenant's own manifests", () => {
  let gw: GatewayClient;
  beforeAll(async () => {
    gw = await startGatewayOn(simA, { ...env, TRUSTED_DOCUMENTS: "enforce" }, () => ({}));
  });
  afterAll(() => gw?.close());

  it("answers B's caller B's own documents, sent whole, by documentId and by APQ hash", async () => {
    for (const res of [await whole(gw, KEY_B, ONLY_B), await byId(gw, KEY_B, ONLY_B), await byHash(gw, KEY_B, ONLY_B)]) {
      expect(res.status).toBe(200);
      expect(res.body.data!.defenderUser.id).toBe(B_ONLY);
    }
    expect(simA.requests.length).toBe(0);
  });

  it("answers every caller the built-in operations and TRUSTED_DOCUMENTS_MANIFESTS' documents", async () => {
    const builtIn = await whole(gw, KEY_A, print(DefenderUserDocument), { id: "contoso\\alice" });
    expect(builtIn.body.data!.defenderUser.id).toBe("contoso\\alice");
    const global = await byId(gw, KEY_A, GLOBAL, { id: "contoso\\alice" });
    expect(global.body.data!.defenderUser.accountName).toBe("alice");
    expect((await byId(gw, KEY_B, GLOBAL, { id: B_ONLY })).status).toBe(200);
  });

  it("refuses B's document to A's caller exactly as an unknown document, sent whole, by documentId and by APQ hash: 0 calls at B", async () => {
    const refusedBefore = await untrusted(gw, "refused");
    const pairs: Array<[Res, Res]> = [
      [await whole(gw, KEY_A, ONLY_B), await whole(gw, KEY_A, UNKNOWN)],
      [await byId(gw, KEY_A, ONLY_B), await byId(gw, KEY_A, UNKNOWN)],
      [await byHash(gw, KEY_A, ONLY_B), await byHash(gw, KEY_A, UNKNOWN)],
    ];
    const expected = ["DOCUMENT_NOT_TRUSTED", "DOCUMENT_NOT_FOUND", "DOCUMENT_NOT_TRUSTED"];
    for (const [i, [ofB, unknown]] of pairs.entries()) {
      expect(ofB.status).toBe(400);
      expect(codes(ofB)).toEqual([expected[i]]);
      expect(ofB.body.data).toBeUndefined();
      // Word for word: nothing tells A's caller that some tenant registered it.
      expect(ofB.text).toBe(unknown.text);
      expect(ofB.headers.get("content-type")).toBe(unknown.headers.get("content-type"));
    }
    // Counted and logged as unknown documents are (DOCUMENT_NOT_FOUND is neither, for both alike).
    expect(await untrusted(gw, "refused")).toBe(refusedBefore + 4);
    const logged = gw.logs.entries("unregistered document refused (TRUSTED_DOCUMENTS=enforce)").map((l) => l.documentHash);
    expect(logged).toEqual(expect.arrayContaining([sha256(ONLY_B), sha256(UNKNOWN)]));
    expect(simA.requests.length + simB.requests.length).toBe(0);
  });

  it("answers a caller who sees B among others B's documents, and A's caller never, even asking under tenant(id:)", async () => {
    const both = await byId(gw, KEY_AB, ONLY_B_UNDER, { t: "b", id: B_ONLY });
    expect(both.status).toBe(200);
    expect(both.body.data!.tenant.defenderUser.id).toBe(B_ONLY);
    simB.reset();
    const onlyA = await byId(gw, KEY_A, ONLY_B_UNDER, { t: "a", id: B_ONLY });
    expect(onlyA.text).toBe((await byId(gw, KEY_A, UNKNOWN, { t: "a", id: B_ONLY })).text);
    expect(simB.requests.length).toBe(0);
  });

  it("reloads each tenant's manifests with the others (SIGHUP), and keeps the registry when one breaks", async () => {
    expect(codes(await byId(gw, KEY_B, ADDED))).toEqual(["DOCUMENT_NOT_FOUND"]);
    writeFileSync(reloadedManifest, codegen(ADDED));
    try {
      expect(gw.gateway.trustedDocuments.reload()).toBe(true);
      expect((await byId(gw, KEY_B, ADDED)).body.data!.defenderUser.id).toBe(B_ONLY);
      simB.reset();
      expect(codes(await byId(gw, KEY_A, ADDED))).toEqual(["DOCUMENT_NOT_FOUND"]);
      expect(simB.requests.length).toBe(0);
      writeFileSync(reloadedManifest, "{ broken");
      expect(gw.gateway.trustedDocuments.reload()).toBe(false);
      expect((await byId(gw, KEY_B, ADDED)).status).toBe(200);
      const line = gw.logs.entries("trusted documents NOT reloaded: the registry in force is unchanged").at(-1);
      expect(String(line?.reason)).toContain('TENANTS_FILE tenant "b" documents');
    } finally {
      writeFileSync(reloadedManifest, codegen());
    }
  });
});

describe("TRUSTED_DOCUMENTS=log with a tenant's own manifests", () => {
  let gw: GatewayClient;
  beforeAll(async () => {
    gw = await startGatewayOn(simA, { ...env, TRUSTED_DOCUMENTS: "log" }, () => ({}));
  });
  afterAll(() => gw?.close());

  it("answers A's caller B's document from A's vendor only, logged and counted as unregistered; B's caller's not", async () => {
    const loggedBefore = await untrusted(gw, "logged");
    expect((await whole(gw, KEY_B, ONLY_B)).body.data!.defenderUser.id).toBe(B_ONLY);
    expect(await untrusted(gw, "logged")).toBe(loggedBefore);
    simB.reset();
    const res = await whole(gw, KEY_A, ONLY_B);
    // A's vendor has no such user: nothing of B's.
    expect(res.body.data!.defenderUser).toBeNull();
    expect(simA.count({ kind: "api" })).toBe(1);
    expect(simB.requests.length).toBe(0);
    expect(await untrusted(gw, "logged")).toBe(loggedBefore + 1);
    const lines = gw.logs.entries("unregistered document answered (TRUSTED_DOCUMENTS=log)").map((l) => l.documentHash);
    expect(lines).toContain(sha256(ONLY_B));
  });

  it("answers A's caller B's documentId and APQ hash exactly as unknown ones: DOCUMENT_NOT_FOUND, PERSISTED_QUERY_NOT_FOUND", async () => {
    const id = [await byId(gw, KEY_A, ONLY_B), await byId(gw, KEY_A, UNKNOWN)];
    expect(codes(id[0]!)).toEqual(["DOCUMENT_NOT_FOUND"]);
    expect(id[0]!.text).toBe(id[1]!.text);
    const apq = [await byHash(gw, KEY_A, ONLY_B), await byHash(gw, KEY_A, UNKNOWN)];
    expect(codes(apq[0]!)).toEqual(["PERSISTED_QUERY_NOT_FOUND"]);
    expect(apq[0]!.text).toBe(apq[1]!.text);
    expect(simA.requests.length + simB.requests.length).toBe(0);
    // B's caller is answered by the same hash.
    expect((await byHash(gw, KEY_B, ONLY_B)).body.data!.defenderUser.id).toBe(B_ONLY);
  });
});
