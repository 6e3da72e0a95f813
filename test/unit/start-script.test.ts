import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** `npm start` (scripts/start.js) rebuilds dist/ only when it is missing or older than a source. */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- scripts/start.js is plain CommonJS (it runs before any build)
const { isStale } = require("../../scripts/start.js") as { isStale(root: string): boolean };

let root: string;
const at = (path: string, seconds: number) => utimesSync(join(root, path), seconds, seconds);

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "usergraph-start-"));
  mkdirSync(join(root, "src", "graphql"), { recursive: true });
  writeFileSync(join(root, "src", "main.ts"), "");
  writeFileSync(join(root, "src", "graphql", "a.ts"), "");
  writeFileSync(join(root, "tsconfig.json"), "{}");
  for (const path of ["src/main.ts", "src/graphql/a.ts", "src/graphql", "src", "tsconfig.json"]) at(path, 1_000);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function built(stampSeconds: number): void {
  mkdirSync(join(root, "dist"), { recursive: true });
  writeFileSync(join(root, "dist", "main.js"), "");
  writeFileSync(join(root, "dist", ".build-stamp"), "");
  at("dist/.build-stamp", stampSeconds);
}

it("builds a fresh clone (no dist/) and a dist/ it did not stamp", () => {
  expect(isStale(root)).toBe(true);
  built(2_000);
  rmSync(join(root, "dist", ".build-stamp"));
  expect(isStale(root)).toBe(true);
});

it("skips the build when every source is older than the stamp", () => {
  built(2_000);
  expect(isStale(root)).toBe(false);
});

it("rebuilds after a source, a config file or a deletion changed", () => {
  built(2_000);
  at("src/graphql/a.ts", 3_000);
  expect(isStale(root)).toBe(true);
  at("src/graphql/a.ts", 1_000);
  at("tsconfig.json", 3_000);
  expect(isStale(root)).toBe(true);
  at("tsconfig.json", 1_000);
  rmSync(join(root, "src", "graphql", "a.ts"));
  at("src/graphql", 3_000);
  expect(isStale(root)).toBe(true);
});
