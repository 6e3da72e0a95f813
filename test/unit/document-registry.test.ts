import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DocumentRegistry, ManifestError, readManifest, sha256Hex } from "../../src/documents/registry";

const dir = mkdtempSync(join(tmpdir(), "usergraph-registry-"));
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
};
const DOC = "query A { __typename }";

describe("manifests", () => {
  it("reads Apollo's persisted query manifest", () => {
    const path = file("apollo.json", {
      format: "apollo-persisted-query-manifest",
      version: 1,
      operations: [{ id: sha256Hex(DOC), name: "A", type: "query", body: DOC }],
    });
    expect(readManifest(path)).toEqual([{ text: DOC, origin: path }]);
  });

  it("reads GraphQL Code Generator's persisted documents, keyed by SHA-256 (with or without its prefix) or SHA-1", () => {
    const sha1 = createHash("sha1").update(DOC).digest("hex");
    for (const key of [sha256Hex(DOC), `sha256:${sha256Hex(DOC)}`, sha1]) {
      expect(readManifest(file("codegen.json", { [key]: DOC }))).toHaveLength(1);
    }
  });

  it.each([
    ["not JSON", "{ nope", /could not be read as JSON/],
    ["an array", [DOC], /expected a JSON object/],
    ["another format", { format: "something-else", version: 1, operations: [] }, /a "format" other than/],
    ["another version", { format: "apollo-persisted-query-manifest", version: 2, operations: [] }, /a "format" other than/],
    [
      "an operation without a body",
      { format: "apollo-persisted-query-manifest", version: 1, operations: [{ id: "x" }] },
      /operations\[0\] has no string/,
    ],
    ["an id that is not its document's hash", { [sha256Hex("query B { __typename }")]: DOC }, /is not the SHA-256/],
    ["an id of another kind", { "my-query": DOC }, /is not the SHA-256/],
    ["a document that is not text", { [sha256Hex(DOC)]: 42 }, /is not a string/],
    ["a document that does not parse", { [sha256Hex("query {")]: "query {" }, /does not parse/],
  ])("refuses %s, whole", (_what, content, message) => {
    expect(() => readManifest(file("bad.json", content))).toThrow(ManifestError);
    expect(() => readManifest(file("bad.json", content))).toThrow(message);
  });
});

describe("the registry", () => {
  it("finds a document by its exact text and by its lower-case SHA-256 only", () => {
    const registry = new DocumentRegistry([{ text: DOC, origin: "test" }]);
    expect(registry.byDocument(DOC)?.hash).toBe(sha256Hex(DOC));
    expect(registry.byId(sha256Hex(DOC))?.text).toBe(DOC);
    expect(registry.byDocument(`${DOC} `)).toBeUndefined();
    expect(registry.byId(sha256Hex(DOC).toUpperCase())).toBeUndefined();
  });

  it("finds a tenant's own document only for a caller that sees that tenant, by text and by hash alike", () => {
    const OTHER = "query Other { __typename }";
    const registry = new DocumentRegistry([
      { text: DOC, origin: "b.json", tenant: "b" },
      { text: DOC, origin: "c.json", tenant: "c" },
      { text: OTHER, origin: "b.json", tenant: "b" },
      { text: OTHER, origin: "global.json" },
    ]);
    const sees =
      (...ids: string[]) =>
      (tenants: ReadonlySet<string>) =>
        ids.some((id) => tenants.has(id));
    for (const find of [(may?: never) => registry.byDocument(DOC, may), (may?: never) => registry.byId(sha256Hex(DOC), may)]) {
      expect(find()).toBeUndefined();
      expect(find(sees("a") as never)).toBeUndefined();
      expect(find(sees("b") as never)?.text).toBe(DOC);
      expect(find(sees("c") as never)?.text).toBe(DOC);
    }
    // Registered for everyone too: everyone's, whatever the order of registration.
    expect(registry.byDocument(OTHER)?.tenants).toBeUndefined();
    expect(registry.byId(sha256Hex(OTHER))?.text).toBe(OTHER);
  });

  it("lists every manifest that does not load in one error, each tenant's named", () => {
    const good = file("good.json", { [sha256Hex(DOC)]: DOC });
    const registry = DocumentRegistry.load([], undefined, [{ tenant: "b", paths: [good] }]);
    expect(registry.byDocument(DOC)).toBeUndefined();
    expect(registry.byDocument(DOC, () => true)?.tenants).toEqual(new Set(["b"]));
    let message = "";
    try {
      DocumentRegistry.load([join(dir, "gone.json")], undefined, [{ tenant: "b", paths: [good, join(dir, "gone-too.json")] }]);
    } catch (err) {
      expect(err).toBeInstanceOf(ManifestError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/^2 manifests do not load/);
    expect(message).toMatch(/TRUSTED_DOCUMENTS_MANIFESTS: \S+gone\.json could not be read/);
    expect(message).toMatch(/TENANTS_FILE tenant "b" documents: \S+gone-too\.json could not be read/);
  });

  it("registers schema/operations/ built in: each file and each of its operations on its own", () => {
    const registry = DocumentRegistry.load([]);
    // 11 files, 22 operations.
    expect(registry.size).toBeGreaterThanOrEqual(33);
  });
});
