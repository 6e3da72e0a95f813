import { Kind, print, type DocumentNode, type OperationDefinitionNode } from "graphql";
import * as operations from "../__generated__/operations";
import { startSimulator, type Simulator } from "../../src/simulator/simulator";
import { DEMO } from "../../src/simulator/demo-data";
import { startGatewayOn, type GatewayClient } from "../helpers/stack";

/**
 * The fast path of registered documents (graphql-jit plans, src/documents/compiled-executor.ts) against the
 * normal one (graphql-js), on one simulator: every operation of schema/operations/ answered, failing
 * upstream, not found and with variables that do not coerce, through both gateways. The bodies must be the
 * same bytes (the vendor's own request id aside, random per call), and so must each request's log lines
 * and the request metrics.
 */

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

const documents = Object.entries(operations)
  .filter(([name, value]) => name.endsWith("Document") && (value as DocumentNode).kind === Kind.DOCUMENT)
  .map(([name, value]) => ({ name, doc: value as DocumentNode }));

function variablesFor(doc: DocumentNode, values: Record<string, unknown>): Record<string, unknown> {
  const op = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const out: Record<string, unknown> = {};
  for (const v of op.variableDefinitions ?? []) {
    const name = v.variable.name.value;
    if (name in values) out[name] = values[name];
    else if (v.type.kind === Kind.NON_NULL_TYPE) throw new Error(`no sample value for required $${name}`);
  }
  return out;
}

/** Variables of the wrong type: a string where a number or list is wanted, or a number for an id. */
function badVariables(doc: DocumentNode): Record<string, unknown> {
  const vars = variablesFor(doc, FOUND);
  const [first] = Object.keys(vars);
  return first === undefined ? { unexpected: 1 } : { ...vars, [first]: { not: "a scalar" } };
}

let sim: Simulator;
let fast: GatewayClient;
let normal: GatewayClient;

beforeAll(async () => {
  sim = await startSimulator();
  // Both on one simulator: the same vendor identity, so signed list cursors are the same bytes too.
  fast = await startGatewayOn(sim, { TRUSTED_DOCUMENTS_COMPILED: "1" });
  normal = await startGatewayOn(sim, { TRUSTED_DOCUMENTS_COMPILED: "0" });
});
afterAll(async () => {
  await fast?.close();
  await normal?.close();
  await sim?.close();
});
beforeEach(() => sim.reset());

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

const plansOf = (client: GatewayClient, doc: DocumentNode) => client.gateway.trustedDocuments.registry.byDocument(print(doc))?.plans.size;

/**
 * Concurrent vendor calls that fail settle (after their jittered retries) in the network's order, which
 * orders the errors and the log lines, on either path alike: for the failure cases both are put in one order.
 */
function inOneOrder(result: { text: string; logs: string }) {
  const body = JSON.parse(result.text) as { errors?: unknown[] };
  const sorted = (list: unknown[]) => list.map((x) => JSON.stringify(x)).sort();
  return {
    ...result,
    text: JSON.stringify({ ...body, errors: sorted(body.errors ?? []) }),
    logs: sorted(JSON.parse(result.logs) as unknown[]),
  };
}

let sequence = 0;
async function both(doc: DocumentNode, variables: Record<string, unknown>, setUp: () => void = () => {}) {
  const body = JSON.stringify({ query: print(doc), variables });
  const out = [];
  for (const client of [fast, normal]) {
    sim.reset();
    setUp();
    const requestId = `parity-${++sequence}`;
    const before = await requestCounts(client);
    const res = await client.post(body, { "x-request-id": requestId });
    const after = await requestCounts(client);
    const counted = [...after].filter(([k, n]) => n !== (before.get(k) ?? 0)).map(([k, n]) => [k, n - (before.get(k) ?? 0)]);
    out.push({
      status: res.status,
      text: normalise(res.text),
      logs: normalise(JSON.stringify(logsOf(client, requestId))),
      calls: sim.requests.length,
      counted,
    });
  }
  return out;
}

describe("registered documents: the compiled plan answers exactly as graphql-js does", () => {
  it("registers every operation a codegen client of schema/operations/ sends", () => {
    expect(documents.length).toBeGreaterThan(20);
    for (const { name, doc } of documents)
      expect([name, fast.gateway.trustedDocuments.registry.byDocument(print(doc)) !== undefined]).toEqual([name, true]);
  });

  describe.each(documents.map((d) => [d.name, d.doc] as const))("%s", (_name, doc) => {
    it("found", async () => {
      const [a, b] = await both(doc, variablesFor(doc, FOUND));
      expect(a).toEqual(b);
      expect(a!.status).toBe(200);
      expect(a!.counted).toHaveLength(1);
      // The fast gateway ran a compiled plan for it; the other has none.
      expect(plansOf(fast, doc)).toBeGreaterThan(0);
      expect(plansOf(normal, doc)).toBe(0);
    });

    it("not found", async () => {
      const [a, b] = await both(doc, variablesFor(doc, NOT_FOUND));
      expect(a).toEqual(b);
    });

    // One vendor at a time: with both failing, which failure settles first (jittered retries) orders the
    // errors, on either path alike.
    it("Defender failing", async () => {
      const [a, b] = await both(doc, variablesFor(doc, FOUND), () => {
        sim.inject({ target: "defender", kind: "status", status: 500, times: 1_000 });
      });
      expect(inOneOrder(a!)).toEqual(inOneOrder(b!));
    });

    it("ESET failing", async () => {
      const [a, b] = await both(doc, variablesFor(doc, FOUND), () => {
        sim.inject({ target: "eset", kind: "status", status: 503, times: 1_000 });
      });
      expect(inOneOrder(a!)).toEqual(inOneOrder(b!));
    });

    it("variables that do not coerce", async () => {
      const [a, b] = await both(doc, badVariables(doc));
      expect(a).toEqual(b);
      expect(a!.status).toBe(400);
      expect(a!.calls).toBe(0);
    });
  });
});
