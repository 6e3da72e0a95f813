import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { getIntrospectionQuery } from "graphql";
import { DEMO } from "../../src/simulator/demo-data";
import { startStack, type Stack } from "../helpers/stack";

/**
 * Class 2 of the hostile suite: documents built to get past the operation limits rather than through them
 * (fragments spread many times, variable and argument defaults, federation representations, huge
 * documents), and the standard tools' documents that the limits must let through. Every limit is measured
 * on what will execute; nothing refused reaches a vendor.
 */
let stack: Stack;
let prod: Stack;
let subgraph: Stack;

beforeAll(async () => {
  // Production posture, but with the defaults of every limit (the body limit raised to 1 MiB, so the
  // documents below reach the parser instead of stopping at MAX_BODY_BYTES' default of 256 KiB).
  [stack, prod, subgraph] = await Promise.all([
    startStack({ MAX_BODY_BYTES: String(1024 * 1024) }),
    startStack({ NODE_ENV: "production", GRAPHQL_INTROSPECTION: "1" }),
    startStack({ FEDERATION_SUBGRAPH: "1" }),
  ]);
});
afterAll(() => Promise.all([stack.close(), prod.close(), subgraph.close()]));

/** A chain of n fragments, each spreading the next twice: under 1 KB, 2^n fields once expanded. */
function fragmentBomb(n: number): string {
  const defs = Array.from({ length: n }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`);
  return `query Bomb { ...F0 } ${defs.join(" ")} fragment F${n} on Query { __typename }`;
}

async function timed<T>(run: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = process.hrtime.bigint();
  const result = await run();
  return { result, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}

describe("documents that expand at execution", () => {
  it.each([30, 200])("refuses a %i-fragment doubling chain by its expanded size while /health/live keeps answering", async (n) => {
    const query = fragmentBomb(n);
    expect(query.length).toBeLessThan(n * 45);
    stack.sim.reset();
    const live: number[] = [];
    let done = false;
    const probe = (async () => {
      while (!done) {
        const t = await timed(() => fetch(stack.gateway.url.replace("/graphql", "/health/live")));
        live.push(t.ms);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const { result: res } = await timed(() => stack.post(JSON.stringify({ query })));
    done = true;
    await probe;
    expect(res.status).toBe(400);
    // A validation rule's refusal: Apollo files it under GRAPHQL_VALIDATION_FAILED; `limit` names the setting.
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: "GRAPHQL_VALIDATION_FAILED", limit: "MAX_FIELDS", max: 20000 });
    expect(res.body.errors?.[0]?.message).toMatch(/^The operation has (\d+|more than 10\^15) fields; the limit is 20000 \(MAX_FIELDS\)\.$/);
    expect(live.length).toBeGreaterThan(0);
    expect(stack.sim.requests).toEqual([]);
  });

  it("counts a deep fragment at every spread, not only the first", async () => {
    const fragment = `fragment Deep on __Type { ${"ofType { ".repeat(6)}name${" }".repeat(6)} }`;
    // First spread at depth 1 (total 8), second under three more levels (total 11 > MAX_DEPTH 10).
    const query = `{ a: __type(name: "Query") { ...Deep } b: __type(name: "Query") { ofType { ofType { ofType { ...Deep } } } } } ${fragment}`;
    const res = await stack.post(JSON.stringify({ query }));
    expect(res.status).toBe(400);
    expect(res.body.errors?.map((e) => e.message)).toContain("The operation has a depth of 11; the limit is 10 (MAX_DEPTH).");
  });

  it("counts aliases inside a fragment at every spread", async () => {
    const fragment = `fragment Many on Query { ${Array.from({ length: 10 }, (_, i) => `t${i}: __typename`).join(" ")} }`;
    const two = `{ ...Many ... on Query { ...Many } } ${fragment}`;
    expect((await stack.post(JSON.stringify({ query: two }))).body.errors).toBeUndefined();
    const three = `{ ...Many ... on Query { ...Many } z: __type(name: "Query") { ...Inner } } fragment Inner on __Type { ${"n: name ".repeat(10)} } ${fragment}`;
    const res3 = await stack.post(JSON.stringify({ query: three }));
    expect(res3.body.errors?.[0]?.message).toBe("The operation has 31 aliases; the limit is 30 (MAX_ALIASES).");
  });

  it("counts a variable's default value like a value the client sent (ids, no variables sent)", async () => {
    stack.sim.reset();
    const ids = Array.from({ length: 150 }, (_, i) => `"user${i}"`).join(",");
    const res = await stack.post(JSON.stringify({ query: `query Defaults($ids: [ID!] = [${ids}]) { defenderUsers(ids: $ids) { id } }` }));
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.message).toContain("defenderUsers(ids:) has 150 ids; the limit is 100 (MAX_DEFENDER_IDS)");
    expect(stack.sim.requests).toEqual([]);
  });

  it("prices every request, though prices are remembered per document and shape of the variables", async () => {
    stack.sim.reset();
    const query = "query Many($ids: [ID!]!) { defenderUsers(ids: $ids) { id } }";
    const send = (ids: unknown[]) => stack.post(JSON.stringify({ query, variables: { ids } }));
    // Refused by coercion first (nulls in [ID!]!), with the same shape as the 150 ids that follow: that
    // refusal must not be remembered as a price.
    expect((await send(Array.from({ length: 150 }, () => null))).status).toBe(400);
    const over = await send(Array.from({ length: 150 }, (_, i) => `nobody${i}`));
    expect(over.body.errors?.[0]?.extensions?.code).toBe("OPERATION_LIMIT_EXCEEDED");
    const within = await send(Array.from({ length: 3 }, (_, i) => `nobody${i}`));
    expect(within.body.errors).toBeUndefined();
    expect(within.body.data).toEqual({ defenderUsers: [null, null, null] });
    expect((await send(Array.from({ length: 101 }, (_, i) => `x${i}`))).body.errors?.[0]?.extensions?.code).toBe(
      "OPERATION_LIMIT_EXCEEDED",
    );
    expect(stack.sim.count({ source: "DEFENDER", kind: "api" })).toBe(3);
  });

  it("refuses an operation one vendor call over MAX_COST (both vendors summed) before any call, and runs one at it", async () => {
    // At the defaults: 1000 ESET uuids are priced 1000 + ceil(log2 1000) + 1 = 1011, each Defender id 1.
    const query = "query Cost($uuids: [ID!]!, $ids: [ID!]!) { esetUsers(uuids: $uuids) { uuid } defenderUsers(ids: $ids) { id } }";
    const send = (defenderIds: number) =>
      stack.post(
        JSON.stringify({
          query,
          variables: {
            uuids: Array.from({ length: 1000 }, () => DEMO.esetAlice),
            ids: Array.from({ length: defenderIds }, () => DEMO.defenderAlice),
          },
        }),
      );
    stack.sim.reset();
    const over = await send(90);
    expect(over.status).toBe(400);
    expect(over.body.errors?.[0]?.extensions).toEqual({
      code: "OPERATION_LIMIT_EXCEEDED",
      problems: ["its cost is 1101 vendor calls; the limit is 1100 (MAX_COST)"],
    });
    expect(stack.sim.requests).toEqual([]);
    const at = await send(89);
    expect(at.status).toBe(200);
    expect(at.body.errors).toBeUndefined();
    const data = at.body.data as { esetUsers: Array<{ uuid: string }>; defenderUsers: Array<{ id: string }> };
    expect(data.esetUsers).toHaveLength(1000);
    expect(data.defenderUsers).toHaveLength(89);
    expect(stack.sim.count({ kind: "api" })).toBeLessThanOrEqual(1100);
  });

  it("prices a page by its default first, from the variable's default or the argument's", async () => {
    stack.sim.reset();
    const links = "edges { node { uuid defenderLinks { strongestRule } } }";
    const viaVariable = await stack.post(JSON.stringify({ query: `query P($n: Int = 1000) { esetUserList(first: $n) { ${links} } }` }));
    expect(viaVariable.status).toBe(400);
    expect(viaVariable.body.errors?.[0]?.extensions?.problems).toContain(
      "it may make 8000 Defender calls; the limit is 100 (MAX_DEFENDER_COST)",
    );
    const viaArgumentDefault = await stack.post(JSON.stringify({ query: `{ esetUserList { ${links} } }` }));
    expect(viaArgumentDefault.body.errors?.[0]?.extensions?.problems).toContain(
      "it may make 400 Defender calls; the limit is 100 (MAX_DEFENDER_COST)",
    );
    expect(stack.sim.requests).toEqual([]);
  });

  it("counts federation representations from a variable's default value", async () => {
    subgraph.sim.reset();
    const reps = Array.from({ length: 150 }, (_, i) => `{__typename: "DefenderUser", id: "user${i}"}`).join(",");
    const query = `query E($r: [_Any!]! = [${reps}]) { _entities(representations: $r) { ... on DefenderUser { id } } }`;
    const res = await subgraph.post(JSON.stringify({ query }));
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.message).toContain("150 DefenderUser representations; the limit is 100 (MAX_DEFENDER_IDS)");
    expect(subgraph.sim.requests).toEqual([]);
  });

  it("answers a 1 MB document of any shape quickly, with /health/live answering meanwhile", async () => {
    const shapes = {
      "a flat selection": `{ ${"__typename ".repeat(80_000)} }`,
      "deep nesting": `{ ${'__type(name: "Q") { '.repeat(40_000)}`,
      "one huge string": `{ __type(name: "${"x".repeat(1_000_000)}") { name } }`,
      "a long fragment list": Array.from({ length: 20_000 }, (_, i) => `fragment F${i} on Query { __typename }`).join(" "),
    };
    for (const [name, query] of Object.entries(shapes)) {
      const body = JSON.stringify({ query: query.slice(0, 1_000_000) });
      expect(body.length).toBeGreaterThan(700_000);
      const { result: res, ms } = await timed(() => stack.post(body));
      process.stdout.write(`1 MB document, ${name}: HTTP ${res.status} in ${ms.toFixed(0)} ms\n`);
      expect([400, 200]).toContain(res.status);
      expect(res.text.length).toBeLessThan(5_000);
      const live = await fetch(stack.gateway.url.replace("/graphql", "/health/live"));
      expect({ name, live: live.status }).toEqual({ name, live: 200 });
    }
  });
});

describe("what the standard tools send passes the default limits", () => {
  const options = {
    "graphql-js defaults": {},
    "graphql-js, every option": {
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      schemaDescription: true,
      inputValueDeprecation: true,
      oneOf: true,
    },
    "Sandbox-style (input value deprecation)": { inputValueDeprecation: true },
  };
  it.each(Object.entries(options))(
    "answers the introspection query (%s) in production posture with introspection on",
    async (_name, opts) => {
      const res = await prod.post(JSON.stringify({ query: getIntrospectionQuery(opts), operationName: "IntrospectionQuery" }));
      expect(res.body.errors).toBeUndefined();
      expect(JSON.stringify(res.body.data)).toContain('"name":"defenderUser"');
    },
  );

  it("answers rover's subgraph introspection ({ _service { sdl } }) in subgraph mode", async () => {
    const res = await subgraph.post(JSON.stringify({ query: "query SubgraphIntrospectQuery { _service { sdl } }" }));
    expect(res.body.errors).toBeUndefined();
    expect(JSON.stringify(res.body.data)).toContain("@key");
  });

  it("lets graphql-codegen read the schema from the running URL", async () => {
    // The real CLI as a developer runs it (it cannot be imported into jest: it is ESM-only inside).
    const dir = await mkdtemp(join(tmpdir(), "usergraph-codegen-"));
    const config = join(dir, "codegen.json");
    await writeFile(
      config,
      JSON.stringify({ schema: stack.gateway.url, generates: { [join(dir, "types.ts")]: { plugins: ["typescript"] } } }),
    );
    const cli = join(__dirname, "..", "..", "node_modules", "@graphql-codegen", "cli", "cjs", "bin.js");
    await promisify(execFile)(process.execPath, [cli, "--config", config, "--silent"], { cwd: join(__dirname, "..", "..") });
    expect(await readFile(join(dir, "types.ts"), "utf8")).toContain("export type DefenderUser");
  });

  it("still bounds a hostile introspection document (list nesting past graphql-js's limit)", async () => {
    const res = await stack.post(
      JSON.stringify({ query: "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }" }),
    );
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.message).toMatch(/introspection/i);
  });
});

describe("what errors give away", () => {
  it("keeps graphql-js's suggestions in development and drops every kind of them in production", async () => {
    const docs = [
      `{ defenderUsr(id: "x") { id } }`,
      `{ defenderUser(idd: "x") { id } }`,
      `{ esetUserList(filter: { protectionStatus: PROTECTD }) { totalCount } }`,
      `query($f: EsetUserFiltr) { esetUserList(filter: $f) { totalCount } }`,
    ];
    for (const query of docs) {
      const dev = await stack.post(JSON.stringify({ query }));
      expect(dev.text).toContain("Did you mean");
      const res = await prod.post(JSON.stringify({ query }));
      expect(res.status).toBe(400);
      expect(res.text).not.toContain("Did you mean");
      expect(res.body.errors?.length).toBeGreaterThan(0);
    }
    const enumVariable = await prod.post(
      JSON.stringify({
        query: "query($f: EsetUserFilter) { esetUserList(filter: $f) { totalCount } }",
        variables: { f: { protectionStatus: "PROTECTD" } },
      }),
    );
    expect(enumVariable.text).not.toContain("Did you mean");
    expect(enumVariable.text).not.toContain("PROTECTED");
  });

  it("does not echo a variable's submitted value when it fails coercion", async () => {
    const marker = "ECHO-ME-7f3a9c";
    for (const variables of [{ ids: [{ secret: marker }] }, { ids: [marker, 12.5, { a: marker }] }, { ids: { nested: [marker] } }]) {
      const res = await stack.post(JSON.stringify({ query: "query($ids: [ID!]!) { defenderUsers(ids: $ids) { id } }", variables }));
      expect(res.status).toBe(400);
      expect(res.text).not.toContain(marker);
      expect(res.body.errors?.[0]?.message).toMatch(/^Variable "\$ids" got an invalid value/);
    }
    const enumVar = await stack.post(
      JSON.stringify({
        query: "query($f: EsetUserFilter) { esetUserList(filter: $f) { totalCount } }",
        variables: { f: { protectionStatus: marker } },
      }),
    );
    expect(enumVar.text).not.toContain(marker);
    expect(enumVar.body.errors?.[0]?.message).toContain('Variable "$f" got an invalid value at "f.protectionStatus"');
  });

  it("still answers a good query normally", async () => {
    const res = await stack.post(
      JSON.stringify({ query: `query($id: ID!) { defenderUser(id: $id) { id } }`, variables: { id: DEMO.defenderAlice } }),
    );
    expect(res.body.errors).toBeUndefined();
  });
});
