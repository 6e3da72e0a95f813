import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode } from "../../src/errors/error-code";
import { APOLLO_CODES } from "../../src/errors/format-error";
import { DEMO } from "../../src/simulator/demo-data";
import { SIMULATOR_CREDENTIALS, type Simulator } from "../../src/simulator/simulator";
import type { Fault } from "../../src/simulator/faults";
import { simulatorEnv, startStack, type Stack } from "../helpers/stack";

/**
 * docs/errors.md's table "Every code a client can see" against the code: (a) every code usergraph can put
 * in `extensions.code` (src/errors/error-code.ts, the codes formatError passes through from Apollo, and any
 * other literal in src/) has a row; (b) every refusal of Apollo, of the HTTP layer and of usergraph is
 * provoked over real HTTP here and the code and status seen must be a row with that status; (c) every row
 * is provoked here or named below as provoked elsewhere, so a row nothing emits fails too.
 */
const root = join(__dirname, "..", "..");
const errorsPage = readFileSync(join(root, "docs", "errors.md"), "utf8");

interface Row {
  code: string; // "—": an answer that is not GraphQL and carries no code
  statuses: number[];
}

function tableRows(): Row[] {
  const start = errorsPage.indexOf("\n## Every code a client can see\n");
  if (start < 0) return [];
  const end = errorsPage.indexOf("\n## ", start + 1);
  const section = errorsPage.slice(start, end < 0 ? undefined : end);
  const lines = section.split("\n").filter((l) => l.startsWith("| ") && !/^\|[-| ]+\|$/.test(l));
  return lines.slice(1).map((line) => {
    const [code, status] = line.split(" | ").map((c) => c.replace(/^\| /, "").trim()) as [string, string];
    return { code: code.replace(/`/g, ""), statuses: [...status.matchAll(/\b[1-5]\d\d\b/g)].map((m) => Number(m[0])) };
  });
}

/** Codes that pass through formatError but that this deployment never sends, with why. */
const NEVER_SENT: Record<string, string> = {
  PERSISTED_QUERY_NOT_SUPPORTED: "APQ is always on (server.ts persistedQueries); a test below uses it",
};

/** Rows this file cannot provoke cheaply, and the test that does. */
const PROVOKED_ELSEWHERE: Record<string, string> = {
  SHUTTING_DOWN: "test/integration/startup.test.ts (a request still running at the end of the shutdown grace)",
  INTERNAL_SERVER_ERROR:
    "test/integration/production.test.ts (formatError masks an unexpected error); the fallback for a bug, so no request provokes it on purpose",
};

/** `code: "X"` and `…_CODE = "X"` literals in src/ outside the simulator (which plays the vendors' own codes). */
function literalCodes(): Set<string> {
  const found = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (path !== join(root, "src", "simulator")) walk(path);
      } else if (entry.name.endsWith(".ts")) {
        const text = readFileSync(path, "utf8");
        for (const m of text.matchAll(/\bcode: "([A-Z][A-Z_]+)"|_CODE = "([A-Z][A-Z_]+)"/g)) found.add(m[1] ?? m[2]!);
      }
    }
  };
  walk(join(root, "src"));
  return found;
}

describe("(a) every code the code can emit has a row", () => {
  const documented = new Set(tableRows().map((r) => r.code));

  it("parses the table", () => {
    expect(tableRows().length).toBeGreaterThan(20);
    const codes = tableRows().map((r) => r.code);
    expect(codes.filter((c, i) => codes.indexOf(c) !== i)).toEqual([]); // one row per code
    for (const row of tableRows()) expect(`${row.code}: ${row.statuses.length > 0}`).toBe(`${row.code}: true`);
  });

  it("lists every code of src/errors/error-code.ts, each used somewhere in src/", () => {
    const sources = readdirSync(join(root, "src"), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith(".ts") && e.name !== "error-code.ts")
      .map((e) => readFileSync(join(e.parentPath, e.name), "utf8"))
      .join("\n");
    for (const [key, code] of Object.entries(ErrorCode)) {
      expect(`${code}: ${documented.has(code) ? "in the table" : "missing"}`).toBe(`${code}: in the table`);
      const used = sources.includes(`ErrorCode.${key}`) || sources.includes(`"${code}"`);
      expect(`${code}: ${used ? "emitted" : "declared but never used"}`).toBe(`${code}: emitted`);
    }
  });

  it("lists every other code literal in src/ and every Apollo code formatError passes through", () => {
    const missing = [...literalCodes(), ...APOLLO_CODES].filter((c) => !documented.has(c) && NEVER_SENT[c] === undefined);
    expect(missing).toEqual([]);
    for (const code of Object.keys(NEVER_SENT)) expect(documented.has(code)).toBe(false);
  });
});

type Seen = { status: number; code: string };
const seen = async (res: Response): Promise<Seen> => {
  const text = await res.text();
  let code = "—";
  try {
    const first = (JSON.parse(text) as { errors?: Array<{ extensions?: { code?: unknown } }> }).errors?.[0]?.extensions?.code;
    if (typeof first === "string") code = first;
  } catch {
    // Not JSON: no code.
  }
  return { status: res.status, code };
};

const FULL = "error-table-full-key-5a1c9e3b7d";
const ESET_ONLY = "error-table-eset-key-8f2d6b4a1c";
const TWO_TENANTS = "error-table-two-tenants-key-3e7a";
const NO_TENANT = "error-table-no-tenant-key-6b2f9c";

/** Two tenants (docs/tenants.md) on one simulator, for the codes that only a multi-tenant deployment sends. */
function twoTenants(sim: Simulator): Record<string, string> {
  const file = join(mkdtempSync(join(tmpdir(), "usergraph-error-table-")), "tenants.json");
  const defender = {
    tenantId: SIMULATOR_CREDENTIALS.tenantId,
    clientId: SIMULATOR_CREDENTIALS.clientId,
    clientSecretEnv: "ERROR_TABLE_SECRET",
    apiUrl: sim.url,
    tokenUrl: sim.defenderTokenUrl,
  };
  writeFileSync(
    file,
    JSON.stringify({
      tenants: [
        { id: "a", name: "A", defender },
        { id: "b", name: "B", defender },
      ],
    }),
  );
  return { TENANTS_FILE: file, ERROR_TABLE_SECRET: SIMULATOR_CREDENTIALS.clientSecret };
}
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const defenderQuery = `query ($id: ID!) { defenderUser(id: $id) { id } }`;

let main: Stack;
let limited: Stack;
let short: Stack;
let budget: Stack;
let enforced: Stack;
let tenanted: Stack;
beforeAll(async () => {
  [main, limited, short, budget, enforced, tenanted] = await Promise.all([
    startStack({ AUTH_MODE: "", AUTH_API_KEYS: `${FULL},${ESET_ONLY}=eset:users:read`, UPSTREAM_MAX_RETRIES: "1" }),
    startStack({ AUTH_MODE: "", AUTH_API_KEYS: FULL, CALLER_RATE_LIMIT: "1/60s" }),
    // ESET only (Defender unconfigured), and a deadline short enough for a pending answer to run out.
    startStack({ REQUEST_DEADLINE_MS: "700", UPSTREAM_TIMEOUT_MS: "200", ESET_PENDING_POLL_MS: "50" }, {}, (sim) =>
      Object.fromEntries(Object.entries(simulatorEnv(sim)).filter(([k]) => k.startsWith("ESET_"))),
    ),
    // Three Defender attempts an operation, one at a time: a retry can use up what a later first call needed.
    startStack({ MAX_DEFENDER_COST: "3", UPSTREAM_MAX_RETRIES: "1", DEFENDER_CONCURRENCY: "1" }),
    // Only registered documents (schema/operations) are answered.
    startStack({ AUTH_MODE: "", AUTH_API_KEYS: FULL, TRUSTED_DOCUMENTS: "enforce" }),
    startStack({ AUTH_MODE: "", AUTH_API_KEYS: `${TWO_TENANTS}@a+b,${NO_TENANT}` }, {}, twoTenants),
  ]);
});
afterAll(() => Promise.all([main, limited, short, budget, enforced, tenanted].map((s) => s.close())));
beforeEach(() => [main, limited, short, budget, enforced, tenanted].forEach((s) => s.sim.reset()));

const url = (stack: Stack, path = "/graphql") => stack.gateway.url.replace(/\/graphql$/, path);
const post = (stack: Stack, body: unknown, headers: Record<string, string> = { "x-api-key": FULL }) =>
  fetch(url(stack), {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  }).then(seen);
const get = (stack: Stack, query: string, headers: Record<string, string> = {}) =>
  fetch(`${url(stack)}?${new URLSearchParams({ query })}`, { headers: { "x-api-key": FULL, ...headers } }).then(seen);
const withFault = async (fault: Omit<Fault, "target">, target: Fault["target"] = "defender") => {
  main.sim.inject({ ...fault, target, times: 20 });
  return post(main, { query: defenderQuery, variables: { id: DEMO.defenderAlice } });
};

/** Every refusal, provoked over HTTP, with the code and status it must answer. */
const cases: Array<{ name: string; expected: Seen; run: () => Promise<Seen> }> = [
  // Tenants.
  {
    name: "a root field asked by a caller of two tenants",
    expected: { status: 200, code: "TENANT_REQUIRED" },
    run: () => post(tenanted, { query: defenderQuery, variables: { id: DEMO.defenderAlice } }, { "x-api-key": TWO_TENANTS }),
  },
  {
    name: "a root field asked, with several tenants, by a caller whose key names none",
    expected: { status: 200, code: "FORBIDDEN" },
    run: () => post(tenanted, { query: defenderQuery, variables: { id: DEMO.defenderAlice } }, { "x-api-key": NO_TENANT }),
  },
  // Apollo's own refusals.
  {
    name: "a document that does not parse",
    expected: { status: 400, code: "GRAPHQL_PARSE_FAILED" },
    run: () => post(main, { query: "{" }),
  },
  {
    name: "a field the schema lacks",
    expected: { status: 400, code: "GRAPHQL_VALIDATION_FAILED" },
    run: () => post(main, { query: "{ nope }" }),
  },
  {
    name: "a required variable missing",
    expected: { status: 400, code: "BAD_USER_INPUT" },
    run: () => post(main, { query: defenderQuery, variables: {} }),
  },
  {
    name: "two operations and no operationName",
    expected: { status: 400, code: "OPERATION_RESOLUTION_FAILURE" },
    run: () => post(main, { query: "query A { __typename } query B { __typename }" }),
  },
  {
    name: "an operationName the document lacks",
    expected: { status: 400, code: "OPERATION_RESOLUTION_FAILURE" },
    run: () => post(main, { query: "query A { __typename }", operationName: "B" }),
  },
  {
    name: "a persisted-query hash usergraph does not hold",
    expected: { status: 200, code: "PERSISTED_QUERY_NOT_FOUND" },
    run: () => post(main, { extensions: { persistedQuery: { version: 1, sha256Hash: sha256("{ __typename unknown: __typename }") } } }),
  },
  {
    name: "a persisted-query hash that does not match its query",
    expected: { status: 400, code: "BAD_REQUEST" },
    run: () => post(main, { query: "{ __typename }", extensions: { persistedQuery: { version: 1, sha256Hash: sha256("other") } } }),
  },
  {
    name: "a GET without apollo-require-preflight (CSRF prevention)",
    expected: { status: 400, code: "BAD_REQUEST" },
    run: () => get(main, "{ __typename }"),
  },
  {
    name: "a POST as text/plain (CSRF prevention)",
    expected: { status: 400, code: "BAD_REQUEST" },
    run: () => fetch(url(main), { method: "POST", headers: { "content-type": "text/plain", "x-api-key": FULL }, body: "{}" }).then(seen),
  },
  {
    name: "a mutation over GET",
    expected: { status: 405, code: "BAD_REQUEST" },
    run: () => get(main, "mutation { __typename }", { "apollo-require-preflight": "1" }),
  },
  { name: "a body without a query", expected: { status: 400, code: "BAD_REQUEST" }, run: () => post(main, { variables: {} }) },
  // The HTTP layer.
  { name: "a body that is not JSON", expected: { status: 400, code: "BAD_REQUEST" }, run: () => post(main, "{nope") },
  {
    name: "JSON nested deeper than 64 levels",
    expected: { status: 400, code: "BAD_REQUEST" },
    run: () => post(main, "[".repeat(70) + "]".repeat(70)),
  },
  {
    name: "a body over MAX_BODY_BYTES",
    expected: { status: 413, code: "PAYLOAD_TOO_LARGE" },
    run: () => post(main, { query: "{ __typename }", variables: { pad: "x".repeat(300_000) } }),
  },
  {
    name: "a content type that is not JSON",
    expected: { status: 415, code: "UNSUPPORTED_MEDIA_TYPE" },
    run: () =>
      fetch(url(main), { method: "POST", headers: { "content-type": "application/xml", "x-api-key": FULL }, body: "<q/>" }).then(seen),
  },
  {
    name: "a path usergraph does not serve",
    expected: { status: 404, code: "—" },
    run: () => fetch(url(main, "/graph"), { method: "POST" }).then(seen),
  },
  {
    name: "a method /graphql does not take",
    expected: { status: 405, code: "BAD_REQUEST" },
    run: () => fetch(url(main), { method: "PUT", headers: { "x-api-key": FULL } }).then(seen),
  },
  // Trusted documents (docs/security.md).
  {
    name: "a documentId no manifest registers",
    expected: { status: 400, code: "DOCUMENT_NOT_FOUND" },
    run: () => post(main, { documentId: `sha256:${sha256("query { nobody }")}` }),
  },
  {
    name: "a document not registered, with TRUSTED_DOCUMENTS=enforce",
    expected: { status: 400, code: "DOCUMENT_NOT_TRUSTED" },
    run: () => post(enforced, { query: "query NotRegistered { __typename }" }),
  },
  {
    name: "no credentials",
    expected: { status: 401, code: "UNAUTHENTICATED" },
    run: () => post(main, { query: "{ __typename }" }, {}),
  },
  {
    name: "a caller over CALLER_RATE_LIMIT",
    expected: { status: 429, code: "RATE_LIMITED" },
    run: async () => {
      await post(limited, { query: "{ __typename }" });
      return post(limited, { query: "{ __typename }" });
    },
  },
  // usergraph's own checks.
  {
    name: "an operation over MAX_COST",
    expected: { status: 400, code: "OPERATION_LIMIT_EXCEEDED" },
    run: () =>
      post(main, { query: "{ esetUserList(first: 1000) { edges { node { defenderUsers { esetUsers { defenderUsers { id } } } } } } }" }),
  },
  {
    name: "a field whose first Defender call the operation's price cannot pay (a field alone)",
    expected: { status: 200, code: "OPERATION_LIMIT_EXCEEDED" },
    run: async () => {
      budget.sim.inject({ target: "defender-users", kind: "status", status: 500, times: 20 });
      const res = await fetch(url(budget), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: `{ defenderUsers(ids: ["flaky-1", "flaky-2", "flaky-3"]) { id } }` }),
      });
      const body = (await res.json()) as { errors?: Array<{ path: [string, number]; extensions: { code: string } }> };
      // The first id's attempt and retry, the second id's attempt: the third id's call is refused, not sent.
      const codes = (body.errors ?? []).sort((a, b) => a.path[1] - b.path[1]).map((e) => e.extensions.code);
      expect(codes).toEqual(["UPSTREAM_ERROR", "UPSTREAM_ERROR", "OPERATION_LIMIT_EXCEEDED"]);
      return { status: res.status, code: codes[2]! };
    },
  },
  {
    name: "an argument usergraph refuses (a field alone)",
    expected: { status: 200, code: "BAD_USER_INPUT" },
    run: () => post(main, { query: "{ esetUserList(first: -1) { totalCount } }" }),
  },
  {
    name: "a caller without the source's scope (a field alone)",
    expected: { status: 200, code: "FORBIDDEN" },
    run: () => post(main, { query: defenderQuery, variables: { id: DEMO.defenderAlice } }, { "x-api-key": ESET_ONLY }),
  },
  {
    name: "a source without credentials (a field alone)",
    expected: { status: 200, code: "SOURCE_NOT_CONFIGURED" },
    run: () => post(short, { query: defenderQuery, variables: { id: DEMO.defenderAlice } }, {}),
  },
  {
    name: "ESET still pending at the deadline (a field alone)",
    expected: { status: 200, code: "UPSTREAM_PENDING" },
    run: async () => {
      const query = `query ($uuid: ID!) { esetUser(uuid: $uuid) { uuid } }`;
      // ESET's token first, so the pending polls alone meet the deadline: a cold token request under a
      // loaded CI machine can outlast the 200 ms attempt timeout (UPSTREAM_TIMEOUT, seen once).
      await post(short, { query, variables: { uuid: DEMO.esetBob } }, {});
      short.sim.inject({ target: "eset", kind: "pending", polls: 1000 });
      return post(short, { query, variables: { uuid: DEMO.esetAlice } }, {});
    },
  },
  // A vendor failing (each a field alone, HTTP 200).
  { name: "vendor 400", expected: { status: 200, code: "BAD_USER_INPUT" }, run: () => withFault({ kind: "status", status: 400 }) },
  {
    name: "vendor 401 after a token refresh",
    expected: { status: 200, code: "UPSTREAM_UNAUTHENTICATED" },
    run: () => withFault({ kind: "status", status: 401 }),
  },
  { name: "vendor 403", expected: { status: 200, code: "UPSTREAM_FORBIDDEN" }, run: () => withFault({ kind: "status", status: 403 }) },
  { name: "vendor 429", expected: { status: 200, code: "RATE_LIMITED" }, run: () => withFault({ kind: "status", status: 429 }) },
  { name: "vendor 500", expected: { status: 200, code: "UPSTREAM_ERROR" }, run: () => withFault({ kind: "status", status: 500 }) },
  { name: "vendor 503", expected: { status: 200, code: "UPSTREAM_UNAVAILABLE" }, run: () => withFault({ kind: "status", status: 503 }) },
  { name: "vendor 504", expected: { status: 200, code: "UPSTREAM_TIMEOUT" }, run: () => withFault({ kind: "status", status: 504 }) },
  { name: "vendor connection reset", expected: { status: 200, code: "UPSTREAM_UNREACHABLE" }, run: () => withFault({ kind: "reset" }) },
  { name: "vendor answer not JSON", expected: { status: 200, code: "UPSTREAM_BAD_RESPONSE" }, run: () => withFault({ kind: "bad-json" }) },
];

describe("(b) every refusal, over HTTP, answers a code and status the table lists", () => {
  it.each(cases)("$name: $expected.code, HTTP $expected.status", async ({ expected, run }) => {
    const got = await run();
    expect(got).toEqual(expected);
    const row = tableRows().find((r) => r.code === got.code);
    expect(
      `${got.code} HTTP ${got.status}: ${row === undefined ? "no row" : row.statuses.includes(got.status) ? "listed" : `listed with ${row.statuses.join(", ")}`}`,
    ).toBe(`${got.code} HTTP ${got.status}: listed`);
  });

  it("supports persisted queries, so PERSISTED_QUERY_NOT_SUPPORTED is never sent", async () => {
    const query = "{ __typename }";
    const extensions = { persistedQuery: { version: 1, sha256Hash: sha256(query) } };
    expect(await post(main, { query, extensions })).toEqual({ status: 200, code: "—" });
    expect(await post(main, { extensions })).toEqual({ status: 200, code: "—" });
  });
});

describe("(c) every row is emitted", () => {
  it("is provoked above or by a named test, and every status a row lists is one of those", () => {
    expect(tableRows().length).toBeGreaterThan(20);
    const provoked = new Map<string, Set<number>>();
    for (const { expected } of cases) provoked.set(expected.code, (provoked.get(expected.code) ?? new Set()).add(expected.status));
    const problems: string[] = [];
    for (const row of tableRows()) {
      if (PROVOKED_ELSEWHERE[row.code] !== undefined) {
        if (!Object.values(ErrorCode).includes(row.code as ErrorCode)) problems.push(`${row.code}: not a code of error-code.ts`);
        continue;
      }
      const statuses = provoked.get(row.code);
      if (statuses === undefined) problems.push(`${row.code}: nothing here provokes it`);
      else
        for (const status of row.statuses) if (!statuses.has(status)) problems.push(`${row.code}: nothing here answers it with ${status}`);
    }
    expect(problems).toEqual([]);
  });
});
