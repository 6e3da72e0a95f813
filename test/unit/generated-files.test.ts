import "reflect-metadata";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { isNonNullType, parse, validate, type GraphQLEnumType, type GraphQLObjectType } from "graphql";
import { buildSubgraphAppSchema, printSubgraphAppSchema } from "../../src/federation/subgraph-schema";
import { buildAppSchema, printAppSchema } from "../../src/schema";

const root = join(__dirname, "..", "..");

describe("generated files stay true to the code", () => {
  it("schema/schema.graphql matches the schema the code builds (run `npm run schema:emit`)", async () => {
    const committed = readFileSync(join(root, "schema", "schema.graphql"), "utf8");
    expect(printAppSchema(await buildAppSchema())).toBe(committed);
  });

  it("schema/subgraph.graphql matches the federation subgraph the code builds (run `npm run schema:emit`)", async () => {
    const committed = readFileSync(join(root, "schema", "subgraph.graphql"), "utf8");
    expect(printSubgraphAppSchema(await buildSubgraphAppSchema())).toBe(committed);
  });

  it("keeps the contract's names: the four queries, their argument and result types, and the enums", async () => {
    const schema = await buildAppSchema();
    const query = schema.getQueryType()!.getFields();
    const signature = (name: string) =>
      `${name}(${query[name]!.args.map((a) => `${a.name}: ${a.type.toString()}`).join(", ")}): ${query[name]!.type.toString()}`;
    expect(["defenderUser", "defenderUsers", "esetUser", "esetUsers", "esetUserList", "person"].map(signature)).toEqual([
      "defenderUser(id: ID!): DefenderUser",
      "defenderUsers(ids: [ID!]!): [DefenderUser]",
      "esetUser(uuid: ID!): EsetUser",
      "esetUsers(uuids: [ID!]!): [EsetUser]",
      "esetUserList(filter: EsetUserFilter, first: Int, after: String): EsetUserConnection",
      "person(ref: String!): Person",
    ]);
    const enumValues = (name: string) => (schema.getType(name) as GraphQLEnumType).getValues().map((v) => v.name);
    // Every top-level field nullable: a failing source, a missing scope or a refused argument nulls that field alone.
    // Except `tenants` (docs/tenants.md, DESIGN "Tenants"): it asks no vendor, so nothing can fail under it but its own items' fields.
    for (const field of Object.values(query).filter((f) => f.name !== "tenants"))
      expect(`${field.name}: ${isNonNullType(field.type) ? "non-null" : "nullable"}`).toBe(`${field.name}: nullable`);
    expect(enumValues("ProtectionStatus")).toEqual(["UNSPECIFIED", "UNPROTECTED", "PENDING", "PARTIALLY_PROTECTED", "FULLY_PROTECTED"]);
    expect(enumValues("IdentityProviderType")).toEqual(["UNSPECIFIED", "MICROSOFT", "GOOGLE", "FACEBOOK", "LOCAL"]);
    expect(enumValues("IdentityReferenceFormat")).toEqual([
      "UNSPECIFIED",
      "EMAIL_ADDRESS",
      "USER_NAME",
      "USER_PRINCIPAL_NAME",
      "PHONE_NUMBER",
      "FEDERATED",
    ]);
    const fields = (name: string) =>
      Object.values((schema.getType(name) as GraphQLObjectType).getFields()).map((f) => `${f.name}: ${f.type.toString()}`);
    expect(fields("EsetUser")).toEqual(
      expect.arrayContaining([
        "identities: [Identity!]!",
        "activeProductIds: [ID!]!",
        "protectionStatus: ProtectionStatus!",
        "cloudOffice: CloudOffice",
      ]),
    );
    expect(fields("DefenderUser")).toEqual(expect.arrayContaining(["id: ID!", "logonTypes: [String!]!", "firstSeen: DateTime"]));
    // Issue 7's link fields, nullable since issue 22 (they reach the other vendor, so they fail alone).
    expect(fields("EsetUser")).toEqual(expect.arrayContaining(["defenderUsers: [DefenderUser!]"]));
    expect(fields("DefenderUser")).toEqual(expect.arrayContaining(["esetUsers: [EsetUser!]"]));
    expect(fields("EsetUserConnection")).toEqual(
      expect.arrayContaining(["edges: [EsetUserEdge!]!", "pageInfo: PageInfo!", "totalCount: Int"]),
    );
    expect(fields("PageInfo")).toEqual(["hasNextPage: Boolean!", "hasPreviousPage: Boolean!", "startCursor: String", "endCursor: String"]);
  });

  it("gives every type, field and enum value a description", async () => {
    const schema = await buildAppSchema();
    const missing: string[] = [];
    const objects = ["DefenderUser", "EsetUser", "Identity", "CloudOffice", "Query"];
    objects.push(
      "EsetUserConnection",
      "EsetUserEdge",
      "PageInfo",
      "UserLink",
      "LinkReason",
      "Person",
      "EsetUserFilter",
      "EsetActiveProductFilter",
    );
    for (const name of objects) {
      const type = schema.getType(name) as GraphQLObjectType;
      if (name !== "Query" && !type.description) missing.push(name);
      for (const field of Object.values(type.getFields())) {
        if (!field.description) missing.push(`${name}.${field.name}`);
        for (const arg of "args" in field ? field.args : []) if (!arg.description) missing.push(`${name}.${field.name}(${arg.name})`);
      }
    }
    for (const name of ["ProtectionStatus", "IdentityProviderType", "IdentityReferenceFormat", "LinkRule", "ProductAutoActivationBase"]) {
      for (const value of (schema.getType(name) as GraphQLEnumType).getValues())
        if (!value.description) missing.push(`${name}.${value.name}`);
    }
    expect(missing).toEqual([]);
  });

  it("every file in schema/operations/ parses and validates on its own (no fragment from another file)", async () => {
    const schema = await buildAppSchema();
    const dir = join(root, "schema", "operations");
    const problems: string[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".graphql"))) {
      for (const error of validate(schema, parse(readFileSync(join(dir, file), "utf8")))) problems.push(`${file}: ${error.message}`);
    }
    expect(problems).toEqual([]);
  });

  it("test/__generated__/operations.ts matches codegen's output (run `npm run codegen`)", () => {
    // Codegen's CLI loads ESM-only dependencies that jest's CommonJS runtime cannot, so it runs in plain
    // node, generating in memory (nothing is written) and printing the outputs as JSON.
    const script = `
      const cli = require("@graphql-codegen/cli");
      cli.loadCodegenConfig({ configFilePath: "codegen.yml" })
        .then(({ config }) => cli.generate({ ...config, cwd: process.cwd(), silent: true }, false))
        .then((outputs) => process.stdout.write(JSON.stringify(outputs)));`;
    const outputs = JSON.parse(execFileSync(process.execPath, ["-e", script], { cwd: root, encoding: "utf8" })) as Array<{
      filename: string;
      content: string;
    }>;
    expect(outputs.map((o) => o.filename)).toEqual(["test/__generated__/operations.ts"]);
    const committed = readFileSync(join(root, "test", "__generated__", "operations.ts"), "utf8");
    expect(outputs[0]!.content).toBe(committed);
  }, 30_000);
});
