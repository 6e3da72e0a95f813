import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kind, parse, type OperationDefinitionNode } from "graphql";
import { startSimulator, type Simulator } from "../../src/simulator/simulator";
import { DEMO } from "../../src/simulator/demo-data";
import { FAST_PATH_ACCEPT_HEADERS } from "../../src/documents/fast-path";
import { DocumentRegistry } from "../../src/documents/registry";
import { startGatewayOn, type GatewayClient } from "../helpers/stack";

/**
 * The fast path of registered documents (src/documents/fast-path.ts: compiled plans, outside Apollo's
 * pipeline) against the normal path (Apollo, graphql-js), on one simulator: every operation of every
 * registered document (schema/operations/, whole files and each operation alone, and two client manifests)
 * answered, not found, failing upstream (partial results), with a caller lacking a scope, with variables
 * that do not coerce and over a price limit, and unauthenticated. Status, headers and body must be the
 * same bytes (the vendor's own request id aside, random per call), and so must each request's log lines
 * and the request metric. The fast gateway's usergraph_fast_path_requests_total shows which path answered,
 * so no case passes by the fast path silently handing its request to Apollo.
 */

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
const KEY = "parity-both-scopes-key-5d1e8c2b7a";
const KEY_ESET_ONLY = "parity-eset-only-key-9a3f6b0c4e";

const dir = mkdtempSync(join(tmpdir(), "usergraph-parity-"));
const apolloManifest = join(dir, "apollo.json");
const codegenManifest = join(dir, "codegen.json");
const EXTRA = "query ExtraAccountName($id: ID!) { defenderUser(id: $id) { accountName } }";
const CODEGEN_DOC = "query CodegenEset($uuid: ID!) { esetUser(uuid: $uuid) { displayName } }";
writeFileSync(
  apolloManifest,
  JSON.stringify({
    format: "apollo-persisted-query-manifest",
    version: 1,
    operations: [{ id: sha256(EXTRA), name: "ExtraAccountName", type: "query", body: EXTRA }],
  }),
);
writeFileSync(codegenManifest, JSON.stringify({ [sha256(CODEGEN_DOC)]: CODEGEN_DOC }));

const SINCE = "2020-01-01T00:00:00Z";
/** Variable values by name, for every variable a required argument of the operations uses. */
const FOUND: Record<string, unknown> = {
  id: DEMO.defenderAlice,
  uuid: DEMO.esetAlice,
  ids: [DEMO.defenderAlice, DEMO.defenderUser1, "contoso\\nobody"],
  uuids: [DEMO.esetAlice, DEMO.esetBob],
  since: SINCE,
  first: 3,
  machineId: "fs01.contoso.com",
  ref: "alice@contoso.com",
  // BothTenants on a single-tenant gateway: its one tenant, and one it does not have (FORBIDDEN, alike on both paths).
  customerA: "default",
  customerB: "woodgrove",
};
const NOT_FOUND: Record<string, unknown> = {
  ...FOUND,
  id: "contoso\\nobody",
  uuid: "00000000-0000-4000-8000-000000000000",
  ids: ["contoso\\nobody"],
  uuids: ["00000000-0000-4000-8000-000000000000"],
  machineId: "nosuchmachine",
  ref: "nobody@contoso.com",
  customerA: "nobody",
};
/** More ids than any list limit allows: refused by price before any vendor call. */
const TOO_MANY: Record<string, unknown> = {
  ...FOUND,
  ids: Array.from({ length: 1_001 }, (_, i) => `contoso\\u${i}`),
  uuids: Array.from({ length: 1_001 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`),
};

let sim: Simulator;
let fast: GatewayClient;
let normal: GatewayClient;

/** Every (document, operation) the registry holds: a document with several operations is sent with each name. */
interface Case {
  label: string;
  text: string;
  operationName?: string;
  operation: OperationDefinitionNode;
}
const cases: Case[] = [];
// What the gateways register (read here too, so that each operation is a test of its own).
for (const entry of DocumentRegistry.load([apolloManifest, codegenManifest]).entries()) {
  const operations = parse(entry.text).definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  for (const operation of operations)
    cases.push({
      label: `${entry.origin} ${operation.name?.value ?? "anonymous"}`,
      text: entry.text,
      operationName: operations.length > 1 ? operation.name?.value : undefined,
      operation,
    });
}

beforeAll(async () => {
  sim = await startSimulator();
  const env = {
    TRUSTED_DOCUMENTS: "enforce",
    TRUSTED_DOCUMENTS_MANIFESTS: `${apolloManifest},${codegenManifest}`,
    AUTH_MODE: "",
    AUTH_API_KEYS: `${KEY},${KEY_ESET_ONLY}=eset:users:read`,
  };
  // Both on one simulator: the same vendor identity, so signed list cursors are the same bytes too.
  fast = await startGatewayOn(sim, { ...env, TRUSTED_DOCUMENTS_COMPILED: "1" });
  normal = await startGatewayOn(sim, { ...env, TRUSTED_DOCUMENTS_COMPILED: "0" });
});
afterAll(async () => {
  await fast?.close();
  await normal?.close();
  await sim?.close();
});
beforeEach(() => sim.reset());

function variablesFor(operation: OperationDefinitionNode, values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const v of operation.variableDefinitions ?? []) {
    const name = v.variable.name.value;
    if (name in values) out[name] = values[name];
    else if (v.type.kind === Kind.NON_NULL_TYPE) throw new Error(`no sample value for required $${name}`);
  }
  return out;
}

/** Variables of the wrong type: an object where a scalar or list is wanted (or a variable the operation does not declare). */
function badVariables(operation: OperationDefinitionNode): Record<string, unknown> {
  const vars = variablesFor(operation, FOUND);
  const [first] = Object.keys(vars);
  return first === undefined ? { unexpected: 1 } : { ...vars, [first]: { not: "a scalar" } };
}

/** The vendor's request id is a fresh UUID per answer, and a listing says when it was made; nothing else may differ. */
const normalise = (text: string) =>
  text
    .replace(/"upstreamRequestId":"[^"]*"/g, '"upstreamRequestId":"…"')
    .replace(/"(listedAt|esetListedAt|countedAt)":"[^"]*"/g, '"$1":"…"');

/** What a request logged, without what differs by time or process: its duration, timestamps, stacks. */
function logsOf(client: GatewayClient, requestId: string): unknown[] {
  return client.logs
    .entries()
    .filter((e) => e.requestId === requestId)
    .map(({ time: _t, pid: _p, hostname: _h, requestId: _r, durationMs: _d, err, ...rest }) => ({
      ...rest,
      err: err === undefined ? undefined : { type: (err as { type?: string }).type, message: (err as { message?: string }).message },
    }));
}

/** usergraph_graphql_request_duration_seconds's count by its labels (operation, outcome). */
async function requestCounts(client: GatewayClient): Promise<Map<string, number>> {
  const { values } = await client.gateway.metrics.requestDuration.get();
  return new Map(values.filter((v) => v.metricName?.endsWith("_count")).map((v) => [JSON.stringify(v.labels), v.value]));
}

/** usergraph_fast_path_requests_total by result (answered, declined). */
async function fastPathCounts(client: GatewayClient): Promise<Record<string, number>> {
  const { values } = await client.gateway.metrics.fastPath.get();
  return Object.fromEntries(values.map((v) => [String(v.labels.result), v.value]));
}

/**
 * Concurrent vendor calls that fail settle (after their jittered retries) in the network's order, which
 * orders the errors and the log lines, on either path alike: for the failure cases both are put in one order.
 */
function inOneOrder(result: Outcome) {
  const body = JSON.parse(result.text) as { errors?: unknown[] };
  const sorted = (list: unknown[]) => list.map((x) => JSON.stringify(x)).sort();
  return {
    ...result,
    text: JSON.stringify({ ...body, errors: sorted(body.errors ?? []) }),
    logs: sorted(JSON.parse(result.logs) as unknown[]),
  };
}

interface Outcome {
  status: number;
  headers: Record<string, string>;
  text: string;
  logs: string;
  calls: number;
  counted: unknown[];
}

let sequence = 0;
/** The same request to the fast gateway, then to the normal one; with what the fast path did with it. */
async function both(
  body: Record<string, unknown>,
  options: { headers?: Record<string, string>; setUp?: () => void } = {},
): Promise<{ fast: Outcome; normal: Outcome; answered: number; declined: number }> {
  const out: Outcome[] = [];
  const before = await fastPathCounts(fast);
  for (const client of [fast, normal]) {
    sim.reset();
    options.setUp?.();
    const requestId = `parity-${++sequence}`;
    const countsBefore = await requestCounts(client);
    const res = await client.post(JSON.stringify(body), { "x-request-id": requestId, ...(options.headers ?? { "x-api-key": KEY }) });
    const countsAfter = await requestCounts(client);
    const headers = Object.fromEntries([...res.headers].filter(([name]) => name !== "date" && name !== "x-request-id"));
    out.push({
      status: res.status,
      headers,
      text: normalise(res.text),
      logs: normalise(JSON.stringify(logsOf(client, requestId))),
      calls: sim.requests.length,
      counted: [...countsAfter].filter(([k, n]) => n !== (countsBefore.get(k) ?? 0)).map(([k, n]) => [k, n - (countsBefore.get(k) ?? 0)]),
    });
  }
  const after = await fastPathCounts(fast);
  return {
    fast: out[0]!,
    normal: out[1]!,
    answered: (after.answered ?? 0) - (before.answered ?? 0),
    declined: (after.declined ?? 0) - (before.declined ?? 0),
  };
}

const byId = (c: Case, variables: Record<string, unknown>) => ({
  documentId: `sha256:${sha256(c.text)}`,
  variables,
  ...(c.operationName ? { operationName: c.operationName } : {}),
});

describe("registered documents: the fast path answers exactly as Apollo's pipeline does", () => {
  it("covers every operation of every registered document, the manifests' included", () => {
    expect(cases.length).toBeGreaterThan(40);
    expect(cases.map((c) => c.label)).toEqual(
      expect.arrayContaining([expect.stringContaining("ExtraAccountName"), expect.stringContaining("CodegenEset")]),
    );
  });

  it.each(cases.map((c) => [c.label, c] as const))(
    "%s: found, not found, each vendor failing (partial results), as Apollo answers",
    async (_label, c) => {
      const found = await both(byId(c, variablesFor(c.operation, FOUND)));
      expect(found.fast).toEqual(found.normal);
      expect([found.fast.status, found.answered, found.declined]).toEqual([200, 1, 0]);
      expect(found.fast.counted).toHaveLength(1);

      const missing = await both(byId(c, variablesFor(c.operation, NOT_FOUND)));
      expect(missing.fast).toEqual(missing.normal);
      expect(missing.answered).toBe(1);

      // One vendor at a time: with both failing, which failure settles first (jittered retries) orders the
      // errors, on either path alike.
      for (const [target, status] of [
        ["defender", 500],
        ["eset", 503],
      ] as const) {
        const failing = await both(byId(c, variablesFor(c.operation, FOUND)), {
          setUp: () => sim.inject({ target, kind: "status", status, times: 1_000 }),
        });
        expect([target, inOneOrder(failing.fast)]).toEqual([target, inOneOrder(failing.normal)]);
        expect([target, failing.answered]).toEqual([target, 1]);
      }
    },
  );

  it("refuses variables that do not coerce and operations over a price limit as Apollo does (the fast path hands them to it)", async () => {
    let overPriced = 0;
    for (const c of cases) {
      const bad = await both(byId(c, badVariables(c.operation)));
      expect([c.label, bad.fast]).toEqual([c.label, bad.normal]);
      expect([c.label, bad.fast.status, bad.fast.calls, bad.answered, bad.declined]).toEqual([c.label, 400, 0, 0, 1]);

      const names = (c.operation.variableDefinitions ?? []).map((v) => v.variable.name.value);
      if (!names.includes("ids") && !names.includes("uuids")) continue;
      overPriced++;
      const over = await both(byId(c, variablesFor(c.operation, TOO_MANY)));
      expect([c.label, over.fast]).toEqual([c.label, over.normal]);
      expect([c.label, over.fast.status, over.fast.calls, over.answered]).toEqual([c.label, 400, 0, 0]);
      expect(over.fast.text).toContain("OPERATION_LIMIT_EXCEEDED");
    }
    expect(overPriced).toBeGreaterThan(3);
  });

  it("answers a caller without a scope (partial FORBIDDEN) and refuses one without credentials as Apollo does", async () => {
    const c = cases.find((x) => x.label.includes("Person") && x.operationName === undefined) ?? cases[0]!;
    const scoped = await both(byId(c, variablesFor(c.operation, FOUND)), { headers: { "x-api-key": KEY_ESET_ONLY } });
    expect(scoped.fast).toEqual(scoped.normal);
    expect(scoped.fast.text).toContain("FORBIDDEN");
    expect(scoped.answered).toBe(1);

    const anonymous = await both(byId(c, variablesFor(c.operation, FOUND)), { headers: {} });
    expect(anonymous.fast).toEqual(anonymous.normal);
    expect(anonymous.fast.status).toBe(401);
    expect(anonymous.answered).toBe(0);
  });

  it("answers the document sent as its text and as an APQ hash, and each Accept it takes, as Apollo does", async () => {
    const c = cases.find((x) => x.text === EXTRA)!;
    const variables = { id: DEMO.defenderAlice };
    const forms: Array<[Record<string, unknown>, Record<string, string>]> = [
      [{ query: EXTRA, variables }, {}],
      [{ extensions: { persistedQuery: { version: 1, sha256Hash: sha256(EXTRA) } }, variables }, {}],
      [{ documentId: `sha256:${sha256(EXTRA).toUpperCase()}`, query: EXTRA, variables, operationName: null, extensions: null }, {}],
      ...FAST_PATH_ACCEPT_HEADERS.map((accept): [Record<string, unknown>, Record<string, string>] => [byId(c, variables), { accept }]),
    ];
    for (const [body, headers] of forms) {
      const r = await both(body, { headers: { "x-api-key": KEY, ...headers } });
      expect([body, headers, r.fast]).toEqual([body, headers, r.normal]);
      expect([body, headers, r.answered]).toEqual([body, headers, 1]);
    }
    // What it does not take is Apollo's, unchanged: an Accept it does not know, an APQ registration, an unknown field.
    for (const [body, headers] of [
      [byId(c, variables), { accept: "text/html;q=0.5, application/json" }],
      [{ query: EXTRA, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(EXTRA) } }, variables }, {}],
      [{ ...byId(c, variables), other: 1 }, {}],
    ] as Array<[Record<string, unknown>, Record<string, string>]>) {
      const r = await both(body, { headers: { "x-api-key": KEY, ...headers } });
      expect([body, r.fast]).toEqual([body, r.normal]);
      expect([body, r.answered]).toEqual([body, 0]);
    }
  });
  it("answers a document a reload (SIGHUP) registered, on the fast path, as Apollo does", async () => {
    const added = "query AddedOnReload($id: ID!) { defenderUser(id: $id) { id lastSeen } }";
    writeFileSync(
      apolloManifest,
      JSON.stringify({
        format: "apollo-persisted-query-manifest",
        version: 1,
        operations: [
          { id: sha256(EXTRA), name: "ExtraAccountName", type: "query", body: EXTRA },
          { id: sha256(added), name: "AddedOnReload", type: "query", body: added },
        ],
      }),
    );
    expect([fast.gateway.trustedDocuments.reload(), normal.gateway.trustedDocuments.reload()]).toEqual([true, true]);
    const r = await both({ documentId: `sha256:${sha256(added)}`, variables: { id: DEMO.defenderAlice } });
    expect(r.fast).toEqual(r.normal);
    expect([r.fast.status, r.answered]).toEqual([200, 1]);
    expect(r.fast.text).toContain("lastSeen");
  });
});
