import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { print } from "graphql";
import { DefenderUserDocument, DefenderUsersDocument, EsetUserDocument } from "../__generated__/operations";
import { DEMO } from "../../src/simulator/demo-data";
import { codes, startStack, type GraphQLResponse, type Stack } from "../helpers/stack";

/**
 * Trusted documents (DESIGN.md "Trusted documents"): in `enforce`, only registered documents run, however
 * the request is spelled; in `log`, others run and are logged once with their hash and counted; the
 * registry reads Apollo's and GraphQL Code Generator's manifests and reloads; and the fast path of a
 * registered document keeps every control of the normal one (scopes, prices, quotas).
 */

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
const DEFENDER_USER = print(DefenderUserDocument);
const DEFENDER_USER_ID = `sha256:${sha256(DEFENDER_USER)}`;
/** Not in schema/operations/: registered only through a manifest. */
const EXTRA = "query ExtraAccountName($id: ID!) { defenderUser(id: $id) { accountName } }";
const UNREGISTERED = "query Sneaky($id: ID!) { defenderUser(id: $id) { id accountName accountSid } }";

const dir = mkdtempSync(join(tmpdir(), "usergraph-trusted-"));
const apolloManifest = join(dir, "apollo.json");
const codegenManifest = join(dir, "codegen.json");
writeFileSync(
  apolloManifest,
  JSON.stringify({
    format: "apollo-persisted-query-manifest",
    version: 1,
    operations: [{ id: sha256(EXTRA), name: "ExtraAccountName", type: "query", body: EXTRA }],
  }),
);
const CODEGEN_DOC = "query CodegenEset($uuid: ID!) { esetUser(uuid: $uuid) { displayName } }";
// GraphQL Code Generator's client preset, with its older default hash (SHA-1) as the key.
writeFileSync(codegenManifest, JSON.stringify({ [createHash("sha1").update(CODEGEN_DOC).digest("hex")]: CODEGEN_DOC }));

const unknownVendorCalls = (stack: Stack) => stack.sim.requests.filter((r) => r.kind === "api").length;

async function get(stack: Stack, params: Record<string, string | string[]>): Promise<GraphQLResponse<unknown>> {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const one of [v].flat()) search.append(k, one);
  const res = await fetch(`${stack.gateway.url}?${search}`, { headers: { "apollo-require-preflight": "1" } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: JSON.parse(text), text };
}

describe("TRUSTED_DOCUMENTS=enforce: nothing unregistered runs, however it is sent", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ TRUSTED_DOCUMENTS: "enforce", TRUSTED_DOCUMENTS_MANIFESTS: `${apolloManifest}, ${codegenManifest}` });
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.sim.reset());

  const refused = (res: GraphQLResponse<unknown>) => {
    expect(res.status).toBe(400);
    expect(res.body.data).toBeUndefined();
    expect(codes(res)).toEqual(["DOCUMENT_NOT_TRUSTED"]);
    expect(unknownVendorCalls(stack)).toBe(0);
  };

  it("answers a registered document sent whole, by documentId (POST and GET), and by its APQ hash", async () => {
    const variables = { id: DEMO.defenderAlice };
    const whole = await stack.post(JSON.stringify({ query: DEFENDER_USER, variables }));
    const byId = await stack.post(JSON.stringify({ documentId: DEFENDER_USER_ID, variables }));
    const byGet = await get(stack, { documentId: DEFENDER_USER_ID, variables: JSON.stringify(variables) });
    const byApq = await stack.post(
      JSON.stringify({ variables, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(DEFENDER_USER) } } }),
    );
    for (const res of [whole, byId, byGet, byApq]) {
      expect(res.status).toBe(200);
      expect((res.body.data as { defenderUser: { id: string } }).defenderUser.id).toBe(DEMO.defenderAlice);
    }
  });

  it("answers the documents of both manifest formats", async () => {
    const extra = await stack.post(JSON.stringify({ documentId: `sha256:${sha256(EXTRA)}`, variables: { id: DEMO.defenderAlice } }));
    expect(extra.body).toEqual({ data: { defenderUser: { accountName: "alice" } } });
    const codegen = await stack.post(JSON.stringify({ documentId: `sha256:${sha256(CODEGEN_DOC)}`, variables: { uuid: DEMO.esetAlice } }));
    expect(codegen.body).toEqual({ data: { esetUser: { displayName: "Alice Example" } } });
  });

  it("refuses an unregistered document, POST or GET, before any vendor call", async () => {
    refused(await stack.post(JSON.stringify({ query: UNREGISTERED, variables: { id: DEMO.defenderAlice } })));
    refused(await get(stack, { query: UNREGISTERED, variables: JSON.stringify({ id: DEMO.defenderAlice }) }));
    // Introspection is a document like any other.
    refused(await stack.post(JSON.stringify({ query: "{ __schema { types { name } } }" })));
  });

  it("refuses a registered document changed by a byte (a space, a comment)", async () => {
    refused(await stack.post(JSON.stringify({ query: `${DEFENDER_USER} `, variables: { id: DEMO.defenderAlice } })));
    refused(await stack.post(JSON.stringify({ query: `# hi\n${DEFENDER_USER}`, variables: { id: DEMO.defenderAlice } })));
  });

  it("does not let APQ register a new document, nor run one by a hash APQ stored", async () => {
    const register = await stack.post(
      JSON.stringify({
        query: UNREGISTERED,
        variables: { id: DEMO.defenderAlice },
        extensions: { persistedQuery: { version: 1, sha256Hash: sha256(UNREGISTERED) } },
      }),
    );
    refused(register);
    const replay = await stack.post(
      JSON.stringify({
        variables: { id: DEMO.defenderAlice },
        extensions: { persistedQuery: { version: 1, sha256Hash: sha256(UNREGISTERED) } },
      }),
    );
    refused(replay);
  });

  it("refuses a documentId beside another document, or beside another APQ hash", async () => {
    const mismatch = await stack.post(
      JSON.stringify({ documentId: DEFENDER_USER_ID, query: UNREGISTERED, variables: { id: DEMO.defenderAlice } }),
    );
    expect([mismatch.status, codes(mismatch)]).toEqual([400, ["BAD_REQUEST"]]);
    const otherHash = await stack.post(
      JSON.stringify({
        documentId: DEFENDER_USER_ID,
        variables: { id: DEMO.defenderAlice },
        extensions: { persistedQuery: { version: 1, sha256Hash: sha256(UNREGISTERED) } },
      }),
    );
    expect([otherHash.status, codes(otherHash)]).toEqual([400, ["BAD_REQUEST"]]);
    expect(unknownVendorCalls(stack)).toBe(0);
  });

  it("treats the case of a documentId's hex as the same document, and an APQ hash only in Apollo's lower case", async () => {
    const upper = await stack.post(
      JSON.stringify({ documentId: `sha256:${sha256(DEFENDER_USER).toUpperCase()}`, variables: { id: DEMO.defenderAlice } }),
    );
    expect(upper.status).toBe(200);
    stack.sim.reset();
    refused(
      await stack.post(
        JSON.stringify({
          variables: { id: DEMO.defenderAlice },
          extensions: { persistedQuery: { version: 1, sha256Hash: sha256(DEFENDER_USER).toUpperCase() } },
        }),
      ),
    );
    refused(
      await stack.post(
        JSON.stringify({
          variables: { id: DEMO.defenderAlice },
          extensions: { persistedQuery: { version: 1, sha256Hash: sha256(UNREGISTERED).toUpperCase() } },
        }),
      ),
    );
  });

  it("reads no other spelling of documentId, and no documentId from a POST's URL", async () => {
    for (const spelling of ["documentID", "document_id", "DocumentId", "queryId", "id"]) {
      refused(
        await stack.post(JSON.stringify({ [spelling]: DEFENDER_USER_ID, query: UNREGISTERED, variables: { id: DEMO.defenderAlice } })),
      );
    }
    const res = await fetch(`${stack.gateway.url}?documentId=${encodeURIComponent(DEFENDER_USER_ID)}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: UNREGISTERED, variables: { id: DEMO.defenderAlice } }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe(
      "DOCUMENT_NOT_TRUSTED",
    );
    // A GET naming two documents, or a query twice: refused, and nothing ran.
    const twice = await get(stack, {
      documentId: [DEFENDER_USER_ID, `sha256:${sha256(UNREGISTERED)}`],
      variables: JSON.stringify({ id: DEMO.defenderAlice }),
    });
    expect([twice.status, codes(twice)]).toEqual([400, ["BAD_REQUEST"]]);
    const queryTwice = await get(stack, { documentId: DEFENDER_USER_ID, query: [DEFENDER_USER, UNREGISTERED] });
    expect(queryTwice.status).toBe(400);
    expect(queryTwice.body.data).toBeUndefined();
    // documentId as a number, an object, a hash of another algorithm.
    for (const documentId of [12, { sha256: sha256(DEFENDER_USER) }, `sha1:${"a".repeat(40)}`, sha256(DEFENDER_USER)]) {
      const res = await stack.post(JSON.stringify({ documentId, query: UNREGISTERED, variables: { id: DEMO.defenderAlice } }));
      expect([res.status, codes(res)]).toEqual([400, ["BAD_REQUEST"]]);
    }
    expect(unknownVendorCalls(stack)).toBe(0);
  });

  it("refuses a batch, registered documents or not", async () => {
    const batch = await stack.post(
      JSON.stringify([
        { query: DEFENDER_USER, variables: { id: DEMO.defenderAlice } },
        { query: UNREGISTERED, variables: { id: DEMO.defenderAlice } },
      ]),
    );
    expect(batch.status).toBe(400);
    expect(batch.text).not.toContain("accountSid");
    expect(unknownVendorCalls(stack)).toBe(0);
  });

  it("answers an unknown documentId with DOCUMENT_NOT_FOUND and counts every refusal", async () => {
    const before = await refusals(stack, "refused");
    const res = await stack.post(JSON.stringify({ documentId: `sha256:${"0".repeat(64)}` }));
    expect([res.status, codes(res)]).toEqual([400, ["DOCUMENT_NOT_FOUND"]]);
    refused(await stack.post(JSON.stringify({ query: UNREGISTERED, variables: { id: "x" } })));
    expect(await refusals(stack, "refused")).toBe(before + 1);
    // The refusal is logged with the document's hash (once per document), and in the request's own line.
    expect(stack.logs.entries("unregistered document refused (TRUSTED_DOCUMENTS=enforce)").map((e) => e.documentHash)).toContain(
      sha256(UNREGISTERED),
    );
    expect(stack.logs.entries("graphql request").some((e) => JSON.stringify(e.errorCodes) === '["DOCUMENT_NOT_TRUSTED"]')).toBe(true);
  });
});

async function refusals(stack: Stack, action: "refused" | "logged"): Promise<number> {
  const { values } = await stack.gateway.metrics.untrustedDocuments.get();
  return values.find((v) => v.labels.action === action)?.value ?? 0;
}

describe("TRUSTED_DOCUMENTS=log: unregistered documents answered, logged once with their hash, counted", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ TRUSTED_DOCUMENTS: "log" });
  });
  afterAll(() => stack.close());

  it("answers, logs the hash once and counts each request", async () => {
    const query = `${UNREGISTERED} # log-mode`;
    const first = await stack.post(JSON.stringify({ query, operationName: "Sneaky", variables: { id: DEMO.defenderAlice } }));
    const second = await stack.post(JSON.stringify({ query, variables: { id: DEMO.defenderAlice } }));
    const registered = await stack.gql(DefenderUserDocument, { id: DEMO.defenderAlice });
    for (const res of [first, second, registered]) expect(res.status).toBe(200);
    const lines = stack.logs.entries("unregistered document answered (TRUSTED_DOCUMENTS=log)");
    expect(lines.map((l) => [l.documentHash, l.operationName])).toEqual([[sha256(query), "Sneaky"]]);
    expect(await refusals(stack, "logged")).toBe(2);
  });
});

describe("the registry", () => {
  it("refuses to start on a manifest whose ids are not its documents' hashes", async () => {
    const corrupt = join(dir, "corrupt.json");
    writeFileSync(corrupt, JSON.stringify({ [sha256("query A { __typename }")]: UNREGISTERED }));
    await expect(startStack({ TRUSTED_DOCUMENTS: "enforce", TRUSTED_DOCUMENTS_MANIFESTS: corrupt })).rejects.toThrow(/is not the SHA-256/);
  });

  it("reloads (SIGHUP): a document added to a manifest is answered, and a broken manifest keeps the registry in force", async () => {
    const path = join(dir, "reloaded.json");
    writeFileSync(path, JSON.stringify({ format: "apollo-persisted-query-manifest", version: 1, operations: [] }));
    const stack = await startStack({ TRUSTED_DOCUMENTS: "enforce", TRUSTED_DOCUMENTS_MANIFESTS: path });
    try {
      const send = () => stack.post(JSON.stringify({ query: UNREGISTERED, variables: { id: DEMO.defenderAlice } }));
      expect(codes(await send())).toEqual(["DOCUMENT_NOT_TRUSTED"]);
      writeFileSync(
        path,
        JSON.stringify({
          format: "apollo-persisted-query-manifest",
          version: 1,
          operations: [{ id: sha256(UNREGISTERED), name: "Sneaky", type: "query", body: UNREGISTERED }],
        }),
      );
      expect(stack.gateway.trustedDocuments.reload()).toBe(true);
      expect((await send()).status).toBe(200);
      writeFileSync(path, "{ not json");
      expect(stack.gateway.trustedDocuments.reload()).toBe(false);
      expect((await send()).status).toBe(200);
      expect(stack.logs.entries("trusted documents NOT reloaded: the registry in force is unchanged")).toHaveLength(1);
    } finally {
      await stack.close();
    }
  });
});

describe("the fast path keeps every control of the normal one", () => {
  const KEY_ESET_ONLY = "trusted-docs-eset-only-key-4b7c1d9e2a";
  const KEY_BOTH = "trusted-docs-both-scopes-key-8e2f5a1c3d";
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      AUTH_MODE: "",
      AUTH_API_KEYS: `${KEY_ESET_ONLY}=eset:users:read,${KEY_BOTH}`,
      TRUSTED_DOCUMENTS: "enforce",
      MAX_DEFENDER_COST: "2",
      DEFENDER_RATE_LIMITS: "3/60s",
      RATE_LIMIT_CALLER_SHARE: "100",
      RATE_LIMIT_MAX_QUEUE: "0",
    });
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.sim.reset());

  const byId = (doc: string, variables: Record<string, unknown>, key?: string) =>
    stack.post(JSON.stringify({ documentId: `sha256:${sha256(doc)}`, variables }), key ? { "x-api-key": key } : {});

  it("refuses a registered document without credentials, and a caller without the scope", async () => {
    const anonymous = await byId(DEFENDER_USER, { id: DEMO.defenderAlice });
    expect(anonymous.status).toBe(401);
    const esetOnly = await byId(DEFENDER_USER, { id: DEMO.defenderAlice }, KEY_ESET_ONLY);
    expect(codes(esetOnly)).toEqual(["FORBIDDEN"]);
    expect(unknownVendorCalls(stack)).toBe(0);
    // The same caller reads what its scope allows, on the fast path too.
    const eset = await byId(print(EsetUserDocument), { uuid: DEMO.esetAlice }, KEY_ESET_ONLY);
    expect(eset.body.errors).toBeUndefined();
  });

  it("prices a registered document with its variables, and spends the vendor quota", async () => {
    const users = print(DefenderUsersDocument);
    const tooDear = await byId(users, { ids: ["a1", "a2", "a3"] }, KEY_BOTH);
    expect(codes(tooDear)).toEqual(["OPERATION_LIMIT_EXCEEDED"]);
    expect(unknownVendorCalls(stack)).toBe(0);
    // Within its price: 2 calls, then 1 more of the window's 3, then the window is spent.
    expect((await byId(users, { ids: ["q1", "q2"] }, KEY_BOTH)).body.errors).toBeUndefined();
    expect((await byId(DEFENDER_USER, { id: "q3" }, KEY_BOTH)).body.errors).toBeUndefined();
    const spent = await byId(DEFENDER_USER, { id: "q4" }, KEY_BOTH);
    expect(codes(spent)).toEqual(["RATE_LIMITED"]);
    expect(unknownVendorCalls(stack)).toBe(3);
  });
});
