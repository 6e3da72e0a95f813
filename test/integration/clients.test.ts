import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ApolloClient, CombinedGraphQLErrors, HttpLink, InMemoryCache, ServerError, gql } from "@apollo/client";
import { buildSchema, isNonNullType, isObjectType, isScalarType, parse, validate, type GraphQLObjectType } from "graphql";
import { ClientError, GraphQLClient } from "graphql-request";
import { createUsergraphApolloClient, typePolicies, usergraphErrors } from "../../docs/clients/apollo-client";
import { createUsergraphRequestClient, requestWithErrors } from "../../docs/clients/graphql-request";
import { AccountAndEsetUserDocument, EsetUserByUuidDocument, EsetUsersByUuidDocument } from "../../docs/clients/__generated__/operations";
import { DEMO } from "../../src/simulator/demo-data";
import { startStack, type Stack } from "../helpers/stack";

/**
 * docs/clients.md's setups, run as the page shows them: the page embeds docs/clients/*.ts verbatim (checked
 * here), this test imports those files, and the typed documents come from the page's codegen config. Against
 * a usergraph and its simulator on loopback, with an API key as a real client sends one.
 */
const root = join(__dirname, "..", "..");
const page = readFileSync(join(root, "docs", "clients.md"), "utf8");
const schemaText = readFileSync(join(root, "schema", "schema.graphql"), "utf8");
const KEY = "clients-doc-test-key-8e3b1f6a";

describe("docs/clients.md shows the code this test runs", () => {
  it("embeds every file of docs/clients/ verbatim, each after a `<!-- file: … -->` marker", () => {
    const files = readdirSync(join(root, "docs", "clients")).filter((f) => /\.(ts|yml|graphql)$/.test(f));
    expect(files.sort()).toEqual(["apollo-client.ts", "codegen.yml", "graphql-request.ts", "operations.graphql"]);
    const embedded = new Map<string, string>();
    for (const m of page.matchAll(/<!-- file: (docs\/clients\/[^ ]+) -->\n```[a-z]*\n([\s\S]*?)```/g)) embedded.set(m[1]!, m[2]!);
    for (const file of files) {
      const path = `docs/clients/${file}`;
      expect(`${path}:\n${embedded.get(path) ?? "(not in the page)"}`).toBe(`${path}:\n${readFileSync(join(root, path), "utf8")}`);
    }
  });

  it("lists a cache key for every object type without an `id: ID!`, naming non-null fields that exist", () => {
    const schema = buildSchema(schemaText);
    const objects = Object.values(schema.getTypeMap()).filter(
      (t): t is GraphQLObjectType => isObjectType(t) && !t.name.startsWith("__") && t !== schema.getQueryType(),
    );
    const withoutId = objects.filter((t) => t.getFields().id?.type.toString() !== "ID!").map((t) => t.name);
    expect(withoutId.length).toBeGreaterThan(20);
    const missing = withoutId.filter((name) => typePolicies[name]?.keyFields === undefined);
    expect(missing).toEqual([]);
    const problems: string[] = [];
    for (const [name, policy] of Object.entries(typePolicies)) {
      const type = schema.getType(name);
      if (!isObjectType(type)) {
        problems.push(`${name}: no such object type`);
        continue;
      }
      if (!Array.isArray(policy.keyFields)) continue;
      for (const field of policy.keyFields.flat(Infinity as 1) as string[]) {
        const found = type.getFields()[field];
        if (!found || !isNonNullType(found.type)) problems.push(`${name}.${field}: not a non-null field`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("keys federation entities as the subgraph does (@key)", () => {
    const subgraph = readFileSync(join(root, "schema", "subgraph.graphql"), "utf8");
    const keys = [...subgraph.matchAll(/^type (\w+)[^{]*?@key\(fields: "([^"]+)"\)/gms)].map((m) => [m[1]!, m[2]!.split(" ")]);
    expect(keys.length).toBeGreaterThan(0);
    for (const [type, fields] of keys) {
      const keyFields = typePolicies[type as string]?.keyFields;
      expect([type, keyFields ?? ["id"]]).toEqual([type, fields]);
    }
  });

  it("its operations are valid against the committed schema", () => {
    const errors = validate(buildSchema(schemaText), parse(readFileSync(join(root, "docs", "clients", "operations.graphql"), "utf8")));
    expect(errors.map((e) => e.message)).toEqual([]);
  });
});

describe("GraphQL Code Generator with the page's config", () => {
  // Codegen's CLI loads ESM-only dependencies jest's CommonJS runtime cannot (as generated-files.test.ts):
  // it runs in plain node, generating in memory, once with the page's config and once without its scalars.
  let outputs: { withScalars: Array<{ filename: string; content: string }>; without: Array<{ filename: string; content: string }> };
  beforeAll(() => {
    const script = `
      const cli = require("@graphql-codegen/cli");
      const run = (strip) => cli.loadCodegenConfig({ configFilePath: "docs/clients/codegen.yml" }).then(({ config }) => {
        if (strip) for (const out of Object.values(config.generates)) { delete out.config.scalars; delete out.config.strictScalars; }
        return cli.generate({ ...config, cwd: process.cwd(), silent: true }, false);
      });
      Promise.all([run(false), run(true)]).then(([withScalars, without]) => process.stdout.write(JSON.stringify({ withScalars, without })));`;
    outputs = JSON.parse(execFileSync(process.execPath, ["-e", script], { cwd: root, encoding: "utf8" }));
  }, 60_000);

  it("generates the committed docs/clients/__generated__/operations.ts (run `npm run codegen`)", () => {
    expect(outputs.withScalars.map((o) => o.filename)).toEqual(["docs/clients/__generated__/operations.ts"]);
    expect(outputs.withScalars[0]!.content).toBe(readFileSync(join(root, "docs", "clients", "__generated__", "operations.ts"), "utf8"));
  });

  it("types DateTime as string, where without the mapping it is unknown", () => {
    expect(outputs.withScalars[0]!.content).toContain("lastSeen: string | null");
    expect(outputs.withScalars[0]!.content).not.toMatch(/\w: unknown/);
    expect(outputs.without[0]!.content).toMatch(/lastSeen: unknown/);
  });

  it("maps every custom scalar of the schema (strictScalars)", () => {
    const custom = Object.values(buildSchema(schemaText).getTypeMap())
      .filter((t) => isScalarType(t) && !["String", "Int", "Float", "Boolean", "ID"].includes(t.name))
      .map((t) => t.name);
    const config = readFileSync(join(root, "docs", "clients", "codegen.yml"), "utf8");
    expect(config).toContain("strictScalars: true");
    for (const scalar of custom) expect(config).toMatch(new RegExp(`^\\s+${scalar}: string`, "m"));
  });
});

describe("the clients against usergraph", () => {
  let stack: Stack;
  const clients: ApolloClient[] = [];
  const apollo = () => {
    const client = createUsergraphApolloClient(stack.gateway.url, KEY);
    clients.push(client);
    return client;
  };
  beforeAll(async () => {
    stack = await startStack({ AUTH_MODE: "", AUTH_API_KEYS: KEY });
  });
  afterAll(async () => {
    for (const client of clients) client.stop();
    await stack.close();
  });
  beforeEach(() => stack.sim.reset());

  const eset = (stack: Stack) => stack.sim.count({ source: "ESET", kind: "api" });
  const esetDown = () => stack.sim.inject({ target: "eset", kind: "status", status: 503, times: 1000 });
  const both = { id: DEMO.defenderAlice, uuid: DEMO.esetAlice };

  it("Apollo Client keeps the Defender half of a partial answer, with ESET's error", async () => {
    esetDown();
    const { data, error } = await apollo().query({ query: AccountAndEsetUserDocument, variables: both });
    expect(data?.defenderUser?.id).toBe(DEMO.defenderAlice);
    expect(data?.esetUser).toBeNull();
    expect(CombinedGraphQLErrors.is(error)).toBe(true);
    expect(usergraphErrors(error).map((e) => [e.path?.join("."), e.extensions?.code])).toEqual([["esetUser", "UPSTREAM_UNAVAILABLE"]]);
    // DateTime arrives as the string the generated types say.
    expect(new Date(data!.defenderUser!.lastSeen!).toISOString()).toBe(data!.defenderUser!.lastSeen);
  });

  it("Apollo Client with its default errorPolicy ('none') throws that same answer away", async () => {
    esetDown();
    await expect(apollo().query({ query: AccountAndEsetUserDocument, variables: both, errorPolicy: "none" })).rejects.toBeInstanceOf(
      CombinedGraphQLErrors,
    );
  });

  it("graphql-request keeps the Defender half of a partial answer, with ESET's error", async () => {
    esetDown();
    const { data, errors } = await requestWithErrors(
      createUsergraphRequestClient(stack.gateway.url, KEY),
      AccountAndEsetUserDocument,
      both,
    );
    expect(data?.defenderUser?.id).toBe(DEMO.defenderAlice);
    expect(data?.esetUser).toBeNull();
    expect(errors.map((e) => [e.path?.join("."), e.extensions?.code])).toEqual([["esetUser", "UPSTREAM_UNAVAILABLE"]]);
  });

  it("graphql-request without errorPolicy: 'all' throws that same answer away", async () => {
    esetDown();
    const plain = new GraphQLClient(stack.gateway.url, { headers: { "x-api-key": KEY } });
    await expect(plain.request(AccountAndEsetUserDocument, both)).rejects.toBeInstanceOf(ClientError);
  });

  it("both clients read a whole answer when every source is up", async () => {
    const viaApollo = await apollo().query({ query: AccountAndEsetUserDocument, variables: both });
    const viaRequest = await requestWithErrors(createUsergraphRequestClient(stack.gateway.url, KEY), AccountAndEsetUserDocument, both);
    expect(viaApollo.error).toBeUndefined();
    expect(viaRequest.errors).toEqual([]);
    expect(viaApollo.data?.esetUser?.uuid).toBe(DEMO.esetAlice);
    expect(viaRequest.data?.esetUser?.uuid).toBe(DEMO.esetAlice);
  });

  it("Apollo's cache normalises two ESET users by uuid, and esetUser(uuid:) reads them without a call", async () => {
    const client = apollo();
    const uuids = [DEMO.esetAlice, DEMO.esetBob];
    const listed = await client.query({ query: EsetUsersByUuidDocument, variables: { uuids } });
    expect(listed.data?.esetUsers?.map((u) => u?.uuid)).toEqual(uuids);
    const cached = Object.keys(client.cache.extract() as Record<string, unknown>).filter((k) => k.startsWith("EsetUser:"));
    expect(cached.sort()).toEqual(uuids.map((uuid) => `EsetUser:${JSON.stringify({ uuid })}`).sort());

    const callsBefore = eset(stack);
    expect(callsBefore).toBeGreaterThan(0);
    const one = await client.query({ query: EsetUserByUuidDocument, variables: { uuid: DEMO.esetBob } });
    expect(one.data?.esetUser).toEqual({
      __typename: "EsetUser",
      uuid: DEMO.esetBob,
      displayName: listed.data?.esetUsers?.[1]?.displayName,
    });
    expect(eset(stack)).toBe(callsBefore);
  });

  it("without the page's typePolicies, Apollo's cache keeps no ESET user of its own", async () => {
    const plain = new ApolloClient({
      link: new HttpLink({ uri: stack.gateway.url, headers: { "x-api-key": KEY } }),
      cache: new InMemoryCache(),
      // Required once the page's declaration is in the program (Apollo Client 4 types results by it).
      defaultOptions: { query: { errorPolicy: "all" }, watchQuery: { errorPolicy: "all" } },
    });
    clients.push(plain);
    const { data } = await plain.query({ query: EsetUsersByUuidDocument, variables: { uuids: [DEMO.esetAlice, DEMO.esetBob] } });
    expect(data?.esetUsers).toHaveLength(2);
    expect(Object.keys(plain.cache.extract() as Record<string, unknown>).filter((k) => k.startsWith("EsetUser:"))).toEqual([]);
  });

  it("both clients see the code of a request usergraph refuses: at the HTTP layer (401) and as an operation (400)", async () => {
    const badKey = createUsergraphApolloClient(stack.gateway.url, "not-a-key-of-this-usergraph");
    clients.push(badKey);
    const refused = await badKey.query({ query: AccountAndEsetUserDocument, variables: both });
    expect(ServerError.is(refused.error) && refused.error.statusCode).toBe(401);
    expect(usergraphErrors(refused.error).map((e) => e.extensions?.code)).toEqual(["UNAUTHENTICATED"]);
    const invalid = await apollo().query({
      query: gql`
        query Invalid {
          nope
        }
      `,
    });
    expect(CombinedGraphQLErrors.is(invalid.error)).toBe(true);
    expect(usergraphErrors(invalid.error).map((e) => e.extensions?.code)).toEqual(["GRAPHQL_VALIDATION_FAILED"]);

    const viaRequest = async (key: string, document: string) => {
      const thrown = await createUsergraphRequestClient(stack.gateway.url, key)
        .rawRequest(document)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(thrown).toBeInstanceOf(ClientError);
      const { status, errors } = (thrown as ClientError).response;
      return [status, errors?.map((e) => e.extensions?.code)];
    };
    expect(await viaRequest("not-a-key-of-this-usergraph", '{ esetUser(uuid: "x") { uuid } }')).toEqual([401, ["UNAUTHENTICATED"]]);
    expect(await viaRequest(KEY, "{ nope }")).toEqual([400, ["GRAPHQL_VALIDATION_FAILED"]]);
  });
});
