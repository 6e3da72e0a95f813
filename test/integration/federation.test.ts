import "reflect-metadata";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { composeServices } from "@apollo/composition";
import { buildSubgraphSchema, printSubgraphSchema } from "@apollo/subgraph";
import { parse } from "graphql";
import { EsetUsersDocument } from "../__generated__/operations";
import { SCHEMA_HEADER } from "../../src/schema";
import { DEMO } from "../../src/simulator/demo-data";
import { codes, startStack, type GraphQLResponse, type Stack } from "../helpers/stack";

const FULL_KEY = "federation-router-key-3b9d7f1a2c4e";
const DEFENDER_ONLY_KEY = "federation-defender-only-key-6a1e8c0f";
const full = { "x-api-key": FULL_KEY };

/** What Apollo Router sends a subgraph for an entity fetch: one `_entities` call with a variable. */
const ENTITIES = `query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on EsetUser { uuid displayName protectionStatus }
    ... on DefenderUser { id accountDomain logonTypes }
  }
}`;

type Entity = { __typename: string; uuid?: string; id?: string; displayName?: string | null } | null;
type Representation = Record<string, unknown>;

const eset = (uuid: unknown): Representation => ({ __typename: "EsetUser", uuid });
const defender = (id: unknown): Representation => ({ __typename: "DefenderUser", id });

let stack: Stack;
let seeded: string[];

beforeAll(async () => {
  stack = await startStack(
    {
      FEDERATION_SUBGRAPH: "1",
      AUTH_MODE: "",
      AUTH_API_KEYS: `${FULL_KEY},${DEFENDER_ONLY_KEY}=defender:users:read`,
      // The 50-entity batch fits exactly; one more is refused.
      MAX_ESET_IDS: "50",
      MAX_DEFENDER_IDS: "10",
    },
    { extraEsetUsers: 50 },
  );
  seeded = [...stack.sim.esetUsers.keys()].filter((uuid) => uuid.startsWith("00000000-0000-4000-8000-"));
});
afterAll(() => stack.close());
beforeEach(() => stack.sim.reset());

function entities(
  representations: Representation[],
  headers: Record<string, string> = full,
): Promise<GraphQLResponse<{ _entities: Entity[] }>> {
  return stack.post(JSON.stringify({ query: ENTITIES, variables: { representations } }), headers) as Promise<
    GraphQLResponse<{ _entities: Entity[] }>
  >;
}

async function serviceSdl(): Promise<string> {
  const res = (await stack.post(JSON.stringify({ query: "{ _service { sdl } }" }), full)) as GraphQLResponse<{ _service: { sdl: string } }>;
  expect(res.body.errors).toBeUndefined();
  return res.body.data!._service.sdl;
}

describe("usergraph as a Federation 2 subgraph", () => {
  it("composes with another subgraph that references both entities by key", async () => {
    const other = parse(`
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
      type Query { alerts: [Alert!]! }
      type Alert @key(fields: "id") { id: ID! severity: String! user: EsetUser account: DefenderUser }
      type EsetUser @key(fields: "uuid", resolvable: false) { uuid: ID! }
      type DefenderUser @key(fields: "id", resolvable: false) { id: ID! }
    `);
    const result = composeServices([
      { name: "usergraph", typeDefs: parse(await serviceSdl()), url: stack.gateway.url },
      { name: "alerts", typeDefs: other, url: "http://alerts.invalid/graphql" },
    ]);
    expect(result.errors?.map((e) => e.message)).toBeUndefined();
    const supergraph = result.supergraphSdl!;
    expect(supergraph).toMatch(/type DefenderUser\n[^{]*@join__type\(graph: USERGRAPH, key: "id"\)/);
    expect(supergraph).toMatch(/type EsetUser\n[^{]*@join__type\(graph: USERGRAPH, key: "uuid"\)/);
    expect(supergraph).toContain(`USERGRAPH @join__graph(name: "usergraph", url: "${stack.gateway.url}")`);
    // The standalone queries are usergraph's, next to the other subgraph's.
    expect(supergraph).toMatch(/\): \[EsetUser\] @join__field\(graph: USERGRAPH\)/);
    expect(supergraph).toMatch(/alerts: \[Alert!\]! @join__field\(graph: ALERTS\)/);
  });

  it("serves the SDL committed as schema/subgraph.graphql", async () => {
    const committed = readFileSync(join(__dirname, "..", "..", "schema", "subgraph.graphql"), "utf8");
    expect(committed.startsWith(SCHEMA_HEADER)).toBe(true);
    // `_service.sdl` spells out every federation definition; the committed file is the same subgraph as
    // @apollo/subgraph prints it for people (only what usergraph declares).
    expect(`${SCHEMA_HEADER}${printSubgraphSchema(buildSubgraphSchema(parse(await serviceSdl())))}\n`).toBe(committed);
    expect(committed).toContain('type DefenderUser\n  @key(fields: "id")');
    expect(committed).toContain('type EsetUser\n  @key(fields: "uuid")');
  });

  it("resolves 50 EsetUser representations in order with one batchGetUsers call", async () => {
    expect(seeded).toHaveLength(50);
    const res = await entities(seeded.map(eset));
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?._entities.map((e) => e && `${e.__typename}:${e.uuid}`)).toEqual(seeded.map((u) => `EsetUser:${u}`));
    expect(stack.sim.count({ source: "ESET", kind: "api" })).toBe(1);
    expect(stack.sim.count({ source: "ESET", pathIncludes: "batchGetUsers" })).toBe(1);
    const [batch] = stack.sim.requests.filter((r) => r.path.includes("batchGetUsers"));
    expect((JSON.parse(batch!.body) as { usersUuids: string[] }).usersUuids).toHaveLength(50);
  });

  it("mixes both entity types: one ESET batch, one Defender GET per distinct id, answers in representation order", async () => {
    const res = await entities([
      eset(DEMO.esetAlice),
      defender(DEMO.defenderAlice),
      eset(DEMO.esetBob),
      defender(DEMO.defenderUser1),
      defender(DEMO.defenderAlice),
    ]);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?._entities).toEqual([
      { __typename: "EsetUser", uuid: DEMO.esetAlice, displayName: "Alice Example", protectionStatus: "FULLY_PROTECTED" },
      { __typename: "DefenderUser", id: DEMO.defenderAlice, accountDomain: "contoso", logonTypes: ["Network", "RemoteInteractive"] },
      expect.objectContaining({ __typename: "EsetUser", uuid: DEMO.esetBob }),
      expect.objectContaining({ __typename: "DefenderUser", id: DEMO.defenderUser1 }),
      expect.objectContaining({ __typename: "DefenderUser", id: DEMO.defenderAlice }),
    ]);
    expect(stack.sim.count({ source: "ESET", kind: "api" })).toBe(1);
    expect(stack.sim.count({ source: "DEFENDER", kind: "api" })).toBe(2);
  });

  it("answers null, without an error, for ids the vendors do not know", async () => {
    const res = await entities([eset(seeded[0]), eset("0000dead-0000-4000-8000-000000000000"), defender("nobody-here")]);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?._entities.map((e) => e?.uuid ?? e?.id ?? null)).toEqual([seeded[0], null, null]);
  });

  it.each([
    ["a path-like Defender id", defender("../x"), "../x"],
    ["an ESET uuid with spaces", eset("not a uuid at all"), "not a uuid at all"],
    ["an over-long ESET uuid", eset("u".repeat(101)), "u".repeat(101)],
    ["a missing key", { __typename: "EsetUser" }, undefined],
    ["a non-string key", defender(42), undefined],
  ])("refuses %s as BAD_USER_INPUT, without echoing it and before any call", async (_name, representation, value) => {
    const res = await entities([representation]);
    expect(res.body.data?._entities).toEqual([null]);
    expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.body.errors?.[0]?.path).toEqual(["_entities", 0]);
    expect(res.body.errors?.[0]?.extensions?.validationErrors).toEqual([
      { argument: expect.stringMatching(/^(EsetUser\.uuid|DefenderUser\.id)$/), problems: [expect.any(String)] },
    ]);
    if (value !== undefined) expect(res.text).not.toContain(JSON.stringify(value).slice(1, -1));
    expect(stack.sim.requests).toEqual([]);
  });

  it("fails only the bad entry of a batch; the others still resolve in one call", async () => {
    const res = await entities([eset(seeded[0]), eset("../x"), eset(seeded[1])]);
    expect(res.body.data?._entities.map((e) => e?.uuid ?? null)).toEqual([seeded[0], null, seeded[1]]);
    expect(res.body.errors?.map((e) => e.path)).toEqual([["_entities", 1]]);
    expect(stack.sim.count({ source: "ESET", kind: "api" })).toBe(1);
  });

  it("refuses more representations of a type than its list limit allows, before any call", async () => {
    const many = [...seeded, DEMO.esetAlice].map(eset);
    const res = await entities(many);
    expect(res.status).toBe(400);
    expect(codes(res)).toEqual(["OPERATION_LIMIT_EXCEEDED"]);
    expect(res.body.errors?.[0]?.message).toContain(
      "_entities(representations:) has 51 EsetUser representations; the limit is 50 (MAX_ESET_IDS)",
    );
    expect(stack.sim.requests).toEqual([]);
  });

  it("counts inline representations too, per type", async () => {
    const ids = Array.from({ length: 11 }, (_, i) => `user${i}`);
    const inline = ids.map((id) => `{ __typename: "DefenderUser", id: "${id}" }`).join(", ");
    const res = await stack.post(
      JSON.stringify({ query: `{ _entities(representations: [${inline}, { __typename: "EsetUser", uuid: "x" }]) { __typename } }` }),
      full,
    );
    expect(codes(res)).toEqual(["OPERATION_LIMIT_EXCEEDED"]);
    expect(res.body.errors?.[0]?.message).toContain("has 11 DefenderUser representations; the limit is 10 (MAX_DEFENDER_IDS)");
    expect(res.body.errors?.[0]?.message).not.toContain("EsetUser");
    expect(stack.sim.requests).toEqual([]);
  });

  it("enforces the caller's scopes per entity: FORBIDDEN for ESET without eset:users:read, and no ESET call", async () => {
    const res = await entities([eset(DEMO.esetAlice), defender(DEMO.defenderAlice)], { "x-api-key": DEFENDER_ONLY_KEY });
    expect(res.body.data?._entities).toEqual([null, expect.objectContaining({ __typename: "DefenderUser", id: DEMO.defenderAlice })]);
    expect(codes(res)).toEqual(["FORBIDDEN"]);
    expect(res.body.errors?.[0]).toMatchObject({
      path: ["_entities", 0],
      extensions: { source: "ESET", requiredScope: "eset:users:read" },
    });
    expect(stack.sim.count({ source: "ESET" })).toBe(0);
    expect(stack.sim.count({ source: "DEFENDER", kind: "api" })).toBe(1);
  });

  it("still requires authentication for _entities and _service", async () => {
    const res = await entities([eset(DEMO.esetAlice)], {});
    expect(res.status).toBe(401);
    expect(stack.sim.requests).toEqual([]);
  });

  it("keeps the standalone queries, their argument validation and scope checks", async () => {
    const ok = await stack.gql(EsetUsersDocument, { uuids: [DEMO.esetAlice, DEMO.esetBob] }, full);
    expect(ok.body.errors).toBeUndefined();
    expect(ok.body.data?.esetUsers?.map((u) => u?.uuid)).toEqual([DEMO.esetAlice, DEMO.esetBob]);
    const bad = await stack.gql(EsetUsersDocument, { uuids: ["../x"] }, full);
    expect(codes(bad)).toEqual(["BAD_USER_INPUT"]);
    expect(bad.body.errors?.[0]?.extensions?.validationErrors).toEqual([
      { argument: "uuids", problems: [expect.stringContaining("each uuid:")] },
    ]);
    const forbidden = await stack.gql(EsetUsersDocument, { uuids: [DEMO.esetAlice] }, { "x-api-key": DEFENDER_ONLY_KEY });
    expect(codes(forbidden)).toEqual(["FORBIDDEN"]);
    expect(stack.sim.count({ source: "ESET", kind: "api" })).toBe(1);
  });
});

describe("standalone mode (FEDERATION_SUBGRAPH unset)", () => {
  let standalone: Stack;
  beforeAll(async () => {
    standalone = await startStack();
  });
  afterAll(() => standalone.close());

  it.each([
    ["_service", "{ _service { sdl } }"],
    ["_entities", '{ _entities(representations: [{ __typename: "EsetUser", uuid: "x" }]) { __typename } }'],
  ])("has no %s field", async (_name, query) => {
    const res = await standalone.post(JSON.stringify({ query }));
    expect(res.status).toBe(400);
    expect(codes(res)).toEqual(["GRAPHQL_VALIDATION_FAILED"]);
    expect(standalone.sim.requests).toEqual([]);
  });
});
