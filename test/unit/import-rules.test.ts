import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";

/**
 * The layout's import directions (docs/internals.md "Layout") are held by ESLint's
 * import-x/no-restricted-paths; this lints small files placed in each folder to show that the rules bite
 * where they should and stay quiet where imports are allowed. ESLint loads its flat config with a dynamic
 * import, which jest's module sandbox cannot run, so the probes are linted by ESLint's API in a child node.
 */
const root = join(__dirname, "..", "..");

interface Probe {
  file: string;
  code: string;
}

const LINT_PROBES = `
const { ESLint } = require("eslint");
const { join } = require("node:path");
(async () => {
  const probes = JSON.parse(process.argv[1]);
  const eslint = new ESLint({ cwd: process.cwd() });
  const out = [];
  for (const p of probes) {
    const [r] = await eslint.lintText(p.code, { filePath: join(process.cwd(), p.file) });
    out.push(r.messages.filter((m) => m.ruleId === "import-x/no-restricted-paths").map((m) => m.message));
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`;

async function restricted(probes: Probe[]): Promise<string[][]> {
  const { stdout } = await promisify(execFile)(process.execPath, ["-e", LINT_PROBES, JSON.stringify(probes)], {
    cwd: root,
    maxBuffer: 16 << 20,
  });
  return JSON.parse(stdout) as string[][];
}

const SHARED = ["upstream", "store", "graphql", "errors", "limits", "observability", "auth", "apq"];
const PROBES = {
  defenderImportsEset: {
    file: "src/sources/defender/users/probe.ts",
    code: 'import { EsetClient } from "../../eset/client";\nexport const x = EsetClient;\n',
  },
  esetImportsDefender: {
    file: "src/sources/eset/users/probe.ts",
    code: 'import { DefenderClient } from "../../defender/client";\nexport const x = DefenderClient;\n',
  },
  sourceImportsPeople: {
    file: "src/sources/eset/users/probe.ts",
    code: 'import { LinkRule } from "../../../people/link-rule.enum";\nexport const x = LinkRule;\n',
  },
  sourceUsesShared: {
    file: "src/sources/defender/users/probe.ts",
    code: 'import { UpstreamError } from "../../../upstream/upstream-error";\nimport { EntityStore } from "../../../store/entity-store";\nexport const x = [UpstreamError, EntityStore];\n',
  },
  peopleReadsSources: {
    file: "src/people/probe.ts",
    code: 'import { DefenderClient } from "../sources/defender/client";\nimport { EsetClient } from "../sources/eset/client";\nexport const x = [DefenderClient, EsetClient];\n',
  },
  ...Object.fromEntries(
    SHARED.map((folder) => [
      `shared:${folder}`,
      {
        file: `src/${folder}/probe.ts`,
        code: 'import type { DefenderUserDto } from "../sources/defender/dto";\nimport { LinkRule } from "../people/link-rule.enum";\nexport const x: DefenderUserDto | typeof LinkRule | undefined = undefined;\n',
      },
    ]),
  ),
} satisfies Record<string, Probe>;

describe("import directions (ESLint import-x/no-restricted-paths)", () => {
  let found: Record<string, string[]>;

  beforeAll(async () => {
    const names = Object.keys(PROBES) as Array<keyof typeof PROBES>;
    const results = await restricted(names.map((n) => PROBES[n]));
    found = Object.fromEntries(names.map((n, i) => [n, results[i]!]));
  }, 60_000);

  it("a vendor folder may not import another vendor, either way", () => {
    expect(found.defenderImportsEset).toEqual([expect.stringMatching(/a source never imports another source/)]);
    expect(found.esetImportsDefender).toEqual([expect.stringMatching(/a source never imports another source/)]);
  });

  it("a source may not import the cross-vendor features", () => {
    expect(found.sourceImportsPeople).toEqual([expect.stringMatching(/src\/people reads the sources/)]);
  });

  it("shared machinery imports neither a source nor people, not even a type", () => {
    for (const folder of SHARED) expect({ folder, messages: found[`shared:${folder}`]!.length }).toEqual({ folder, messages: 2 });
  });

  it("the allowed directions pass: a source uses the shared machinery, people reads the sources", () => {
    expect(found.sourceUsesShared).toEqual([]);
    expect(found.peopleReadsSources).toEqual([]);
  });
});
