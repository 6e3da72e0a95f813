import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/**
 * The README and docs/ link only inside the repository: every link is relative, names a file that exists,
 * and an anchor names a heading of that file. Code blocks are not links.
 */
const root = join(__dirname, "..", "..");
const pages = [
  "README.md",
  ...readdirSync(join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

function withoutCode(text: string): string {
  return text.replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "");
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of withoutCode(text).matchAll(/^#{1,6} (.+)$/gm)) {
    out.add(
      m[1]!
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, "")
        .replace(/ /g, "-"),
    );
  }
  return out;
}

it.each(pages)("%s links only to files and headings inside the repository", (page) => {
  const text = readFileSync(join(root, page), "utf8");
  const problems: string[] = [];
  const prose = withoutCode(text);
  for (const m of prose.matchAll(/\]\(([^)\s]+)\)|<(https?:[^>]+)>/g)) {
    const target = m[1] ?? m[2]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
      problems.push(`absolute link ${target}`);
      continue;
    }
    const [path, anchor] = target.split("#") as [string, string | undefined];
    const file = path === "" ? join(root, page) : resolve(dirname(join(root, page)), path);
    if (!file.startsWith(root) || !existsSync(file)) {
      problems.push(`missing ${target}`);
      continue;
    }
    if (anchor !== undefined && statSync(file).isFile() && !anchors(readFileSync(file, "utf8")).has(anchor))
      problems.push(`no heading #${anchor} in ${path || page}`);
  }
  expect(problems).toEqual([]);
});

it("keeps the README short enough to read in five minutes, with a table of contents", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  expect(readme.split("\n").length).toBeLessThan(300);
  expect(readme).toContain("## Contents");
  for (const section of ["First five minutes", "Pointing it at a real tenant", "Production checklist", "Security"]) {
    expect(readme).toContain(`## ${section}`);
  }
});
