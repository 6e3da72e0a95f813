import { readdirSync } from "node:fs";
import { join } from "node:path";
import { Kind, parse } from "graphql";
import { demoExampleVariables } from "../../src/demo";
import { EXPLORER_CSP, operationTabs } from "../../src/explorer/explorer.route";
import { loadConfig } from "../../src/config";
import { startGateway, type Gateway } from "../../src/gateway";
import { LogCapture } from "../helpers/log-capture";
import { startStack, type Stack } from "../helpers/stack";

/**
 * The offline explorer over HTTP: a static, public page whose every script and style comes from usergraph,
 * under its own CSP, with the named operations as tabs; served where the landing page is, opt-in in
 * production. The browser itself is driven in explorer-browser.test.ts.
 */

const KEY = "explorer-test-key-4d2a9c7e";
const root = join(__dirname, "..", "..");

const origin = (stack: Stack) => stack.gateway.url.replace(/\/graphql$/, "");
const get = (stack: Stack, path: string, headers: Record<string, string> = {}) => fetch(origin(stack) + path, { headers });

/** The script and stylesheet addresses the page loads. */
function references(html: string): string[] {
  return [...html.matchAll(/<(?:script|link)\b[^>]*?(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
}

describe("explorer with client auth (development defaults)", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ AUTH_MODE: "", AUTH_API_KEYS: KEY });
  });
  afterAll(() => stack.close());

  it("serves a public page whose scripts and styles all come from usergraph, under the explorer's own CSP", async () => {
    const res = await get(stack, "/explorer");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("content-security-policy")).toBe(EXPLORER_CSP);
    expect(EXPLORER_CSP).not.toMatch(/https?:|\*|unsafe/);
    // Styles from usergraph, and the one inline style GraphiQL's dialogs insert, allowed by its hash.
    expect(/style-src ([^;]*)/.exec(EXPLORER_CSP)![1]).toMatch(/^'self' 'sha256-[A-Za-z0-9+/]{43}='$/);
    const html = await res.text();
    const all = references(html);
    expect(all.filter((r) => r.startsWith("data:"))).toEqual(["data:,"]); // an empty favicon, so the browser asks for none
    const refs = all.filter((r) => !r.startsWith("data:"));
    expect(refs.sort()).toEqual(
      [
        "explorer/assets/explorer.css",
        "explorer/assets/explorer.js",
        "explorer/assets/graphiql.css",
        "explorer/assets/graphiql.js",
        "explorer/assets/react-dom.js",
        "explorer/assets/react.js",
      ].sort(),
    );
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)(?![^>]*application\/json)[^>]*>/); // no inline script
    for (const ref of refs) {
      const asset = await get(stack, `/${ref}`, { "accept-encoding": "gzip" });
      expect(`${ref} ${asset.status}`).toBe(`${ref} 200`);
      expect(asset.headers.get("content-security-policy")).toBe(EXPLORER_CSP);
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
  });

  it("offers every named operation of schema/operations/ as a tab, with a place for the API key", async () => {
    const html = await (await get(stack, "/explorer")).text();
    const config = JSON.parse(/<script type="application\/json" id="explorer-config">(.*?)<\/script>/s.exec(html)![1]!) as {
      tabs: Array<{ query: string; variables?: string }>;
      headers: string;
      endpoint: string;
    };
    const files = readdirSync(join(root, "schema", "operations")).filter((f) => f.endsWith(".graphql"));
    expect(config.tabs).toHaveLength(files.length);
    expect(config.tabs[0]!.query).toContain("query BothUsers");
    expect(config.tabs.map((t) => t.query).join("\n")).toContain("query EsetUserList");
    // A blank place for the key, no placeholder text that could be sent as one (the page sends no blank header).
    expect(JSON.parse(config.headers)).toEqual({ "x-api-key": "" });
    expect(config.endpoint).toBe("graphql");
    // Not demo mode: no example values (they name demo users).
    expect(config.tabs.every((t) => t.variables === undefined)).toBe(true);
    expect(html).toContain("API key");
  });

  it("is public and static: the page needs no key, the endpoint still does", async () => {
    stack.sim.reset();
    expect((await get(stack, "/explorer")).status).toBe(200);
    const anonymous = await stack.post(JSON.stringify({ query: "{ __typename }" }));
    expect(anonymous.status).toBe(401);
    expect(stack.sim.requests).toEqual([]);
  });

  it("serves gzip when asked, the same bytes as plain", async () => {
    const plain = Buffer.from(await (await get(stack, "/explorer/assets/graphiql.js")).arrayBuffer());
    const zipped = await get(stack, "/explorer/assets/graphiql.js", { "accept-encoding": "gzip" });
    // fetch decodes gzip itself; the header says what went over the wire.
    expect(zipped.headers.get("content-encoding")).toBe("gzip");
    expect(Buffer.from(await zipped.arrayBuffer()).equals(plain)).toBe(true);
    expect(plain.length).toBeGreaterThan(1_000_000);
  });

  it("serves nothing but its own assets", async () => {
    for (const path of [
      "/explorer/assets/package.json",
      "/explorer/assets/..%2f..%2fpackage.json",
      "/explorer/assets/constructor",
      "/explorer/assets/toString",
    ]) {
      expect(`${path} ${(await get(stack, path)).status}`).toBe(`${path} 404`);
    }
  });

  it("links Sandbox and the explorer to each other", async () => {
    const sandbox = await fetch(stack.gateway.url, { headers: { accept: "text/html" } });
    const text = await sandbox.text();
    expect(text).toMatch(/sandbox/i);
    expect(text).toContain('<a href="explorer">');
    // Sandbox itself comes from Apollo's CDN (it needs internet), but without its telemetry.
    expect(text).toMatch(/runTelemetry"?\s*:\s*false/);
    const html = await (await get(stack, "/explorer")).text();
    expect(html).toContain('<a href="graphql">Apollo Sandbox</a>');
  });
});

describe("explorer in production", () => {
  it("is off by default", async () => {
    const stack = await startStack({ NODE_ENV: "production", AUTH_MODE: "", AUTH_API_KEYS: KEY });
    try {
      expect((await get(stack, "/explorer")).status).toBe(404);
      expect((await get(stack, "/explorer/assets/graphiql.js")).status).toBe(404);
    } finally {
      await stack.close();
    }
  });

  it("is served with GRAPHQL_EXPLORER=1, says that introspection is off, and does not point at the absent Sandbox", async () => {
    const stack = await startStack({ NODE_ENV: "production", AUTH_MODE: "", AUTH_API_KEYS: KEY, GRAPHQL_EXPLORER: "1" });
    try {
      const res = await get(stack, "/explorer");
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain("Introspection is off");
      expect(html).not.toContain("Sandbox");
    } finally {
      await stack.close();
    }
  });
});

describe("explorer's ready tabs in demo mode", () => {
  // The demo itself (no credentials: its two tenants on their simulators), as `npm start` serves it.
  let gateway: Gateway;
  beforeAll(async () => {
    gateway = await startGateway(loadConfig({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn" }), { logDestination: new LogCapture() });
  });
  afterAll(() => gateway.stop());
  const post = async (body: string) => {
    const res = await fetch(gateway.url, { method: "POST", headers: { "content-type": "application/json" }, body });
    return { status: res.status, body: (await res.json()) as unknown };
  };

  // A tab holds a whole file and sends its one set of values to whichever operation runs: a variable name
  // must mean the same thing in every operation (defender-relations.graphql once sent a user id as a machine
  // id and an ESET filter as an alert filter, and RiskyUsersDashboard had no `since`).
  it("answers every operation of every tab with the demo's values, without an error and without a null field", async () => {
    const tabs = operationTabs(demoExampleVariables());
    const answered: string[] = [];
    for (const tab of tabs) {
      const variables = tab.variables === undefined ? {} : (JSON.parse(tab.variables) as Record<string, unknown>);
      for (const definition of parse(tab.query).definitions) {
        if (definition.kind !== Kind.OPERATION_DEFINITION || definition.name === undefined) continue;
        const operationName = definition.name.value;
        const res = await post(JSON.stringify({ query: tab.query, operationName, variables }));
        const body = res.body as { data?: Record<string, unknown> | null; errors?: unknown[] };
        expect(`${operationName} ${res.status} ${JSON.stringify(body.errors ?? [])}`).toBe(`${operationName} 200 []`);
        const nulls = Object.entries(body.data ?? {}).filter(([, value]) => value === null);
        expect(`${operationName} null: ${nulls.map(([field]) => field).join(",")}`).toBe(`${operationName} null: `);
        answered.push(operationName);
      }
    }
    expect(answered).toEqual(
      expect.arrayContaining(["MachineLoggedOnUsersProtection", "RiskyUsersDashboard", "DefenderAlertsPage", "BothTenants"]),
    );
  });
});
