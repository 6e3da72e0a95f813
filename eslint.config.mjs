// Lint: the import directions of the layout (docs/internals.md "Layout") plus the recommended rules.
import { readdirSync } from "node:fs";
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { importX } from "eslint-plugin-import-x";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import prettier from "eslint-config-prettier";

// Every folder under src/sources is a vendor: a new one is covered without editing this file.
const vendors = readdirSync(new URL("./src/sources/", import.meta.url), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);
const shared = ["upstream", "store", "graphql", "errors", "auth", "limits", "observability", "apq"];

const zones = [
  // A source never reads another source: adding or removing a vendor touches one folder.
  ...vendors.map((v) => ({
    target: `./src/sources/${v}`,
    from: vendors.filter((w) => w !== v).map((w) => `./src/sources/${w}`),
    message: "a source never imports another source; cross-vendor features live in src/people",
  })),
  {
    target: "./src/sources",
    from: "./src/people",
    message: "sources do not depend on cross-vendor features (src/people reads the sources, not the reverse)",
  },
  // The shared machinery knows no vendor and no cross-vendor feature.
  ...shared.map((s) => ({
    target: `./src/${s}`,
    from: ["./src/sources", "./src/people"],
    message: `src/${s} is shared machinery: it must not import a source or src/people`,
  })),
  {
    target: "./src/simulator",
    from: ["./src/sources", "./src/people", "./src/graphql", "./src/store", "./src/auth", "./src/limits"],
    message: "the simulator plays the vendors: it must not reuse the gateway's own code for them",
  },
];

export default tseslint.config(
  { ignores: ["dist/**", "dist-test/**", "dist-bench/**", "node_modules/**", "test/__generated__/**", "src/explorer/public/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    plugins: { "import-x": importX },
    settings: { "import-x/resolver-next": [createTypeScriptImportResolver({ project: "./tsconfig.json" })] },
    rules: {
      "import-x/no-restricted-paths": ["error", { zones }],
    },
  },
  {
    rules: {
      // `_name` marks a binding kept on purpose (e.g. a property taken out of a rest spread).
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
      ],
    },
  },
  {
    // Tests walk untyped JSON answers; `any` there is the honest type of a GraphQL response body.
    files: ["test/**/*.ts", "bench/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  prettier,
);
