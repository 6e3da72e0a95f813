// Lint: the import directions of the layout (docs/internals.md "Layout") plus the recommended rules.
import { readdirSync } from "node:fs";
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { importX } from "eslint-plugin-import-x";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";
import prettier from "eslint-config-prettier";
import graphql from "@graphql-eslint/eslint-plugin";
import usergraphSchema from "./eslint/schema-rules.mjs";

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
  {
    // The schema clients generate from (issue 22): @graphql-eslint's schema rules over the committed SDL,
    // plus eslint/schema-rules.mjs for what DESIGN.md promises. Every rule turned off or narrowed says why.
    files: ["schema/schema.graphql"],
    languageOptions: { parser: graphql.parser, parserOptions: { graphQLConfig: { schema: "schema/schema.graphql" } } },
    plugins: { "@graphql-eslint": graphql, usergraph: usergraphSchema },
    rules: {
      ...graphql.configs["flat/schema-recommended"].rules,
      // DESIGN.md: "Descriptions from the vendors' docs go on every type and field" — so every field,
      // argument, input field and enum value too, not only types and root fields.
      "@graphql-eslint/require-description": [
        "error",
        { types: true, rootField: true, FieldDefinition: true, InputValueDefinition: true, EnumValueDefinition: true },
      ],
      // One non-null id per entity; ESET keys its users by `uuid` (DESIGN.md), and value objects, pages and
      // edges (connections, facets, evidence, a link and its reasons, the person views) have no identity of
      // their own: a client caches them under their parent.
      "@graphql-eslint/strict-id-in-types": [
        "error",
        {
          acceptedIdNames: ["id", "uuid"],
          acceptedIdTypes: ["ID"],
          exceptions: {
            suffixes: ["Connection", "Edge", "Facets"],
            types: [
              "AlertComment",
              "AlertEvidence",
              "AlertRelatedUser",
              "CloudOffice",
              "FacetCount",
              "Identity",
              "LinkReason",
              "MachineIpAddress",
              "PageInfo",
              "Person",
              "PersonRisk",
              "UserLink",
            ],
          },
        },
      ],
      // DESIGN.md: every top-level Query field is nullable, so one field's failure never nulls `data`.
      "@graphql-eslint/require-nullable-result-in-root": "error",
      // Forward paging (first/after) is the contract; Relay's backward arguments (last/before) are not
      // offered (the vendors page forward only), and edges carry vendor types that implement no Node.
      "@graphql-eslint/relay-connection-types": "error",
      "@graphql-eslint/relay-page-info": "error",
      "@graphql-eslint/relay-arguments": ["error", { includeBoth: false }],
      // Not enabled, on purpose: `alphabetize` (schema:emit sorts the file already), `require-deprecation-date`
      // (nothing named in DESIGN.md is ever removed, so a deprecation has no deletion date), `no-root-type`
      // (no mutation today; one would be a design decision, not a lint finding).
      "usergraph/nullable-cross-source": [
        "error",
        {
          sources: {
            DEFENDER: ["Defender", "Alert", "Machine"],
            ESET: ["Eset", "Identity", "CloudOffice", "ProtectionStatus", "ProductAutoActivation"],
          },
        },
      ],
      "usergraph/id-fields-typed-id": [
        "error",
        {
          allow: {
            "AlertEvidence.processId": "an OS process number Defender reports (reused by the OS, not unique), no key of this graph",
            "AlertEvidence.parentProcessId": "an OS process number Defender reports (reused by the OS, not unique), no key of this graph",
            "AlertEvidence.aadUserId":
              "an Entra object id: a key of Microsoft Graph, not of this graph (no field or argument takes it); typed as the vendor documents it",
            "DefenderMachine.aadDeviceId":
              "an Entra device id: a key of Microsoft Graph, not of this graph (no field or argument takes it); typed as the vendor documents it",
            "DefenderMachine.rbacGroupId":
              "a Defender device group id that Defender sends as a number or a string; no field or argument of this graph takes it (filters use rbacGroupName)",
          },
        },
      ],
      "usergraph/one-fallback-enum-value": [
        "error",
        {
          allow: {
            "AlertStatus.UNKNOWN":
              "Defender documents Unknown as an alert status and filters on it (statuses: [UNKNOWN] → status eq 'Unknown'); UNSPECIFIED is usergraph's fallback for no or a new value and is refused as a filter: the descriptions say so",
            "MachineHealthStatus.UNKNOWN":
              "Defender documents Unknown as a sensor health status; UNSPECIFIED is usergraph's fallback for no or a new value: the descriptions say so",
          },
        },
      ],
    },
  },
);
