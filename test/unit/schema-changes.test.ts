import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CriticalityLevel, diff, type Change } from "@graphql-inspector/core";
import { buildSchema } from "graphql";

/**
 * The schema is a contract with client authors: every change that can break a client generated from the
 * last release is announced in CHANGELOG.md before it ships. @graphql-inspector/core diffs
 * schema/schema.graphql against the newest schema/releases/<version>.graphql; each BREAKING change's
 * coordinate (e.g. `DefenderUser.esetUsers`) must start an entry of the Unreleased section's "Breaking"
 * list, and each DANGEROUS one (an enum value added, a default changed: exhaustive clients notice) must be
 * named somewhere in the Unreleased section. Entries in "Breaking" that the diff does not find are stale.
 */
const root = join(__dirname, "..", "..");
const read = (...path: string[]) => readFileSync(join(root, ...path), "utf8");

const releases = readdirSync(join(root, "schema", "releases"))
  .map((f) => /^(\d+)\.(\d+)\.(\d+)\.graphql$/.exec(f))
  .filter((m): m is RegExpExecArray => m !== null)
  .map((m) => ({ file: m[0], version: [Number(m[1]), Number(m[2]), Number(m[3])] }))
  .sort((a, b) => a.version[0]! - b.version[0]! || a.version[1]! - b.version[1]! || a.version[2]! - b.version[2]!);
const last = releases[releases.length - 1]!;

/** The text of the section under `heading` (a line), up to the next heading of the same or a higher level. */
function section(text: string, heading: RegExp): string | undefined {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => heading.test(l));
  if (start < 0) return undefined;
  const level = /^#+/.exec(lines[start]!)![0].length;
  const end = lines.findIndex((l, i) => i > start && /^#+ /.test(l) && /^#+/.exec(l)![0].length <= level);
  return lines.slice(start + 1, end < 0 ? undefined : end).join("\n");
}

/** What the changelog does not announce of the changes from `released` to `current`, as readable lines. */
async function unannounced(released: string, current: string, changelog: string): Promise<string[]> {
  const changes: Change[] = await diff(buildSchema(released), buildSchema(current));
  const unreleased = section(changelog, /^## \[Unreleased\]/) ?? "";
  const breakingList = section(unreleased, /^### Breaking/) ?? "";
  const announced = new Set([...breakingList.matchAll(/^- `([^`]+)`/gm)].map((m) => m[1]!));
  const named = new Set([...unreleased.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
  const problems: string[] = [];
  const breakingPaths = new Set<string>();
  for (const c of changes) {
    const path = c.path ?? c.message;
    if (c.criticality.level === CriticalityLevel.Breaking) {
      breakingPaths.add(path);
      if (!announced.has(path)) problems.push(`breaking, not in Unreleased → Breaking: ${path}: ${c.message}`);
    } else if (c.criticality.level === CriticalityLevel.Dangerous) {
      breakingPaths.add(path);
      if (!named.has(path)) problems.push(`dangerous, not named in Unreleased: ${path}: ${c.message}`);
    }
  }
  for (const path of announced)
    if (!breakingPaths.has(path))
      problems.push(`stale: Unreleased → Breaking names ${path}, which did not change dangerously since the release`);
  return problems;
}

describe("schema changes since the last release", () => {
  const changelog = read("CHANGELOG.md");

  it("keeps the last release's schema and its changelog section, at the package's version", () => {
    const version = (JSON.parse(read("package.json")) as { version: string }).version;
    expect(last.file).toBe(`${version}.graphql`);
    expect(changelog).toMatch(new RegExp(`^## \\[${version.replace(/\./g, "\\.")}\\]`, "m"));
    expect(changelog).toMatch(/^## \[Unreleased\]$/m);
  });

  it("announces every breaking change in CHANGELOG.md's Unreleased → Breaking list", async () => {
    expect(await unannounced(read("schema", "releases", last.file), read("schema", "schema.graphql"), changelog)).toEqual([]);
  });

  it("fails on a breaking change the changelog does not announce, and on a stale announcement", async () => {
    const released = read("schema", "releases", last.file);
    const current = read("schema", "schema.graphql");
    // A field removed and an argument made required: breaking, and not in the changelog.
    const broken = current
      .replace(/\n {2}"""Windows security identifier \(SID\) of the account\."""\n {2}accountSid: String\n/, "\n")
      .replace("defenderUser(\n", "defenderUser(\n    mustGive: Int!\n");
    expect(broken).not.toContain("accountSid: String");
    expect(await unannounced(released, broken, changelog)).toEqual([
      expect.stringMatching(/^breaking, not in Unreleased → Breaking: DefenderUser\.accountSid: /),
      expect.stringMatching(/^breaking, not in Unreleased → Breaking: Query\.defenderUser\.mustGive: /),
    ]);
    // The nullable esetUsers (breaking by inspector's rules) with its entry taken out of the changelog.
    const silent = changelog.replace(/^- `DefenderUser\.esetUsers`/m, "- DefenderUser.esetUsers");
    expect(await unannounced(released, current, silent)).toEqual([
      expect.stringMatching(/^breaking, not in Unreleased → Breaking: DefenderUser\.esetUsers: .*'\[EsetUser!\]!' to '\[EsetUser!\]'/),
    ]);
    // An enum value added (dangerous) must be named; an entry for a change that is not there is stale.
    const added = current.replace("enum AlertStatus {\n", 'enum AlertStatus {\n  """New."""\n  DISMISSED\n\n');
    const stale = changelog.replace("### Breaking\n\n", "### Breaking\n\n- `DefenderUser.accountName`: made up.\n");
    expect(await unannounced(released, added, stale)).toEqual([
      expect.stringMatching(/^dangerous, not named in Unreleased: AlertStatus\.DISMISSED: /),
      "stale: Unreleased → Breaking names DefenderUser.accountName, which did not change dangerously since the release",
    ]);
  });
});
