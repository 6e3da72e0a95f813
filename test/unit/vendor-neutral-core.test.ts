import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import * as ts from "typescript";

/**
 * Issue 20: the core names no vendor. Outside a source's own folder (src/sources/<vendor>/), the
 * cross-vendor features (src/people/) and the simulator that plays the vendors (src/simulator/), no
 * identifier, string or template of the code names one. Comments are free to give examples. The source
 * folders found on disk are the vendors, so a new one is covered without editing this test.
 */
const root = join(__dirname, "..", "..");
const vendorFolders = readdirSync(join(root, "src", "sources"), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);
// Each folder name as a word or a camelCase part: "esetUser", "EsetClient", "MAX_ESET_IDS", never "reset" or "ECONNRESET".
const VENDOR = new RegExp(
  vendorFolders.flatMap((v) => [`(?<![A-Za-z])${v}`, v[0]!.toUpperCase() + v.slice(1), `(?<![A-Z])${v.toUpperCase()}`]).join("|"),
);

/**
 * Shared files allowed to name a vendor, each with why. Keep this list short: an entry is a place a new
 * vendor would still have to touch.
 */
const EXCEPTIONS: Record<string, string> = {
  // The registration list: one line per built-in source, by design (test/integration/third-source.test.ts
  // registers a third through the same registerSource).
  "src/sources/index.ts": "the one registration line per built-in source",
  // The demo's start-up banner and explorer example values quote the demo data of the built-in vendors.
  "src/demo.ts": "the demo's banner text and example variables quote the built-in vendors' demo data",
  // The explorer's tab order names schema/operations files, which are documents about the vendors' fields.
  "src/explorer/explorer.route.ts": "tab order of the example operations (file names)",
};

function* typescriptFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* typescriptFiles(path);
    else if (path.endsWith(".ts")) yield path;
  }
}

/** Identifiers, strings and template parts of a file that name a vendor (comments are not in the tree's text nodes). */
function vendorNames(file: string): string[] {
  const found = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (
      (ts.isIdentifier(node) ||
        ts.isStringLiteralLike(node) ||
        ts.isTemplateHead(node) ||
        ts.isTemplateMiddle(node) ||
        ts.isTemplateTail(node)) &&
      VENDOR.test(node.text)
    ) {
      found.add(node.text.length > 60 ? `${node.text.slice(0, 60)}…` : node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true));
  return [...found];
}

const isVendorSide = (rel: string) =>
  vendorFolders.some((v) => rel.startsWith(`src/sources/${v}/`)) || rel.startsWith("src/people/") || rel.startsWith("src/simulator/");

describe("a core that names no vendor", () => {
  it("finds the vendor folders it guards", () => {
    expect(vendorFolders).toEqual(expect.arrayContaining(["defender", "eset"]));
    for (const name of ["esetUser", "EsetClient", "MAX_ESET_IDS", "createDefenderStores", "defender:users:read"])
      expect(VENDOR.test(name)).toBe(true);
    for (const name of ["ECONNRESET", "reset", "resetTimer", "Preset"]) expect(VENDOR.test(name)).toBe(false);
  });

  it("names no vendor in shared code outside src/sources/<vendor>/, src/people/ and src/simulator/, but for the listed exceptions", () => {
    const named: Record<string, string[]> = {};
    for (const file of typescriptFiles(join(root, "src"))) {
      const rel = relative(root, file).split("\\").join("/");
      if (isVendorSide(rel) || rel in EXCEPTIONS) continue;
      const names = vendorNames(file);
      if (names.length > 0) named[rel] = names;
    }
    expect(named).toEqual({});
  });

  it("lists no exception that no longer names a vendor", () => {
    const stale = Object.keys(EXCEPTIONS).filter((rel) => vendorNames(join(root, rel)).length === 0);
    expect(stale).toEqual([]);
  });
});
