import { existsSync, readdirSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { parse, type OperationDefinitionNode } from "graphql";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/**
 * The offline GraphQL IDE at GET /explorer: GraphiQL (npm's `graphiql` 3, with React 18, their UMD builds
 * served from node_modules) and a small start-up script, every byte from usergraph itself, under a CSP that
 * allows nothing from elsewhere. Apollo Sandbox at /graphql loads from Apollo's CDN; this page works with no
 * internet. The page is public and static: it never runs GraphQL itself, the queries it sends go to
 * /graphql with whatever credentials the user puts in its headers editor.
 */
export interface ExplorerOptions {
  /** Whether Apollo Sandbox is served at /graphql (the page links to it, and it to the page). */
  sandbox: boolean;
  /** Whether /graphql wants an API key or a JWT: the headers editor then opens with a blank `x-api-key` for one. */
  authRequired: boolean;
  /** Whether introspection is on: without it the page runs queries but has no schema docs or completion. */
  introspection: boolean;
  /** Example values by variable name (demo mode), filled into the ready tabs' variables. */
  exampleVariables?: Readonly<Record<string, unknown>>;
}

/**
 * The one inline style GraphiQL needs: its dialogs (settings, short keys) lock the page's scrolling with
 * react-remove-scroll-bar, which inserts this <style> (its text for a scrollbar gap of 0, which explorer.css
 * makes the only case). Allowing its hash, rather than 'unsafe-inline', allows that text and nothing else;
 * explorer-browser.test.ts opens both dialogs and fails on any CSP violation, e.g. after an upgrade.
 */
const SCROLL_LOCK_STYLE_HASH = "'sha256-Y/huXlwoYkVyQlxwSVcCi1RCDGDCSVBzDt0hYP9qlTc='";

/** The page's own policy: scripts, styles and requests to this origin only; GraphiQL's fonts are inlined (data:). */
export const EXPLORER_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  `style-src 'self' ${SCROLL_LOCK_STYLE_HASH}`,
  "font-src data:",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** The checkout's root, found from here: dist/, dist-test/ and dist-bench/ sit at different depths. */
const root = ((): string => {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, "package.json"))) return dir;
  return join(__dirname, "..", "..");
})();
const moduleDir = (name: string) => dirname(require.resolve(`${name}/package.json`, { paths: [root] }));

interface Asset {
  path: string;
  type: string;
  /** Versioned vendor files may be cached; our own script changes with usergraph. */
  cache: string;
}

function assets(): Record<string, Asset> {
  const vendor = "public, max-age=86400";
  const own = "no-cache";
  const react = dirname(require.resolve("react", { paths: [root] }));
  const reactDom = dirname(require.resolve("react-dom", { paths: [root] }));
  const graphiql = moduleDir("graphiql");
  const js = "text/javascript; charset=utf-8";
  const css = "text/css; charset=utf-8";
  return {
    "react.js": { path: join(react, "umd", "react.production.min.js"), type: js, cache: vendor },
    "react-dom.js": { path: join(reactDom, "umd", "react-dom.production.min.js"), type: js, cache: vendor },
    "graphiql.js": { path: join(graphiql, "graphiql.min.js"), type: js, cache: vendor },
    "graphiql.css": { path: join(graphiql, "graphiql.min.css"), type: css, cache: vendor },
    "explorer.js": { path: join(root, "src", "explorer", "public", "explorer.js"), type: js, cache: own },
    "explorer.css": { path: join(root, "src", "explorer", "public", "explorer.css"), type: css, cache: own },
  };
}

/** The named operations in schema/operations/, most useful first, as GraphiQL tabs. */
export function operationTabs(examples: Readonly<Record<string, unknown>> = {}): Array<{ query: string; variables?: string }> {
  const dir = join(root, "schema", "operations");
  const first = [
    "both-users.graphql",
    // The demo's two tenants in one request (docs/tenants.md, "Trying it in the demo").
    "both-tenants.graphql",
    "person.graphql",
    "eset-user-list.graphql",
    "defender-users.graphql",
    "eset-users.graphql",
  ];
  const rank = (f: string) => (first.includes(f) ? first.indexOf(f) : first.length);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".graphql"))
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return files.map((file) => {
    const query = readFileSync(join(dir, file), "utf8");
    const names = new Set<string>();
    for (const definition of parse(query).definitions) {
      if (definition.kind !== "OperationDefinition") continue;
      for (const v of (definition as OperationDefinitionNode).variableDefinitions ?? []) names.add(v.variable.name.value);
    }
    const values = Object.fromEntries([...names].filter((n) => n in examples).map((n) => [n, examples[n]]));
    return Object.keys(values).length > 0 ? { query, variables: JSON.stringify(values, null, 2) } : { query };
  });
}

/** JSON inside a <script type="application/json"> block: nothing in it can close the element or start markup. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

function page(options: ExplorerOptions, tabs: ReturnType<typeof operationTabs>): string {
  const config = {
    endpoint: "graphql",
    tabs,
    // Blank, not a placeholder text: explorer.js sends no blank header, so nothing but a real key goes out.
    headers: options.authRequired ? JSON.stringify({ "x-api-key": "" }, null, 2) : "{}",
    authRequired: options.authRequired,
  };
  const sandbox = options.sandbox
    ? ` Online? The same endpoint in <a href="graphql">Apollo Sandbox</a> (loads from Apollo's servers).`
    : "";
  const notes = [
    options.authRequired
      ? 'Put your API key between the quotes of "x-api-key" in the Headers tab below (or a bearer token as "Authorization": "Bearer …"); it is kept in this page\'s memory only.'
      : "",
    options.introspection ? "" : "Introspection is off on this server: queries run, but there are no schema docs or completion.",
  ].filter((n) => n !== "");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>usergraph explorer</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="explorer/assets/graphiql.css">
<link rel="stylesheet" href="explorer/assets/explorer.css">
</head>
<body>
<header id="explorer-bar"><strong>usergraph explorer</strong> &mdash; GraphiQL served by usergraph itself; works without internet. Ready tabs hold the named operations of <code>schema/operations/</code>.${sandbox}${notes.length > 0 ? ` <span id="explorer-notes">${notes.join(" ")}</span>` : ""}</header>
<main id="graphiql"><noscript>The explorer needs JavaScript.</noscript></main>
<script type="application/json" id="explorer-config">${scriptJson(config)}</script>
<script src="explorer/assets/react.js"></script>
<script src="explorer/assets/react-dom.js"></script>
<script src="explorer/assets/graphiql.js"></script>
<script src="explorer/assets/explorer.js"></script>
</body>
</html>
`;
}

const gzipAsync = promisify(gzip);

/**
 * Registers GET /explorer and its assets on the server (a plain function, not an encapsulated plugin, so
 * its onSend hook also sees Sandbox's page). Each reply sets its own security headers over the server's
 * defaults: the explorer's CSP instead of `default-src 'none'`.
 */
export function registerExplorer(app: FastifyInstance, options: ExplorerOptions): void {
  const files = assets();
  const html = Buffer.from(page(options, operationTabs(options.exampleVariables)), "utf8");
  // Read and compressed on first use, then kept: GraphiQL's bundle is 3.5 MB, about 1 MB gzipped.
  const loaded = new Map<string, Promise<{ plain: Buffer; gzipped: Buffer }>>();
  const load = (name: string, read: () => Promise<Buffer>) => {
    let entry = loaded.get(name);
    if (!entry) {
      entry = read().then(async (plain) => ({ plain, gzipped: await gzipAsync(plain, { level: 9 }) }));
      entry.catch(() => loaded.delete(name));
      loaded.set(name, entry);
    }
    return entry;
  };
  const send = async (
    request: FastifyRequest,
    reply: FastifyReply,
    body: { plain: Buffer; gzipped: Buffer },
    type: string,
    cache: string,
  ) => {
    void reply
      .header("content-type", type)
      .header("cache-control", cache)
      .header("content-security-policy", EXPLORER_CSP)
      .header("vary", "accept-encoding");
    if (/\bgzip\b/.test(String(request.headers["accept-encoding"] ?? "")))
      return reply.header("content-encoding", "gzip").send(body.gzipped);
    return reply.send(body.plain);
  };

  app.get("/explorer", async (request, reply) =>
    send(request, reply, await load("/", async () => html), "text/html; charset=utf-8", "no-store"),
  );
  app.get<{ Params: { name: string } }>("/explorer/assets/:name", async (request, reply) => {
    const asset = Object.hasOwn(files, request.params.name) ? files[request.params.name] : undefined;
    if (!asset) return reply.code(404).send({ error: "no such explorer asset" });
    return send(request, reply, await load(request.params.name, () => readFile(asset.path)), asset.type, asset.cache);
  });

  if (options.sandbox) {
    // Sandbox's page shows a fallback text when Apollo's CDN cannot be reached: point offline users here.
    const offline = "<p>Apollo Sandbox cannot be loaded; it appears that you might be offline.</p>";
    app.addHook("onSend", async (request, reply, payload) => {
      if (request.method !== "GET" || !request.url.startsWith("/graphql") || typeof payload !== "string" || !payload.includes(offline))
        return payload;
      if (!String(reply.getHeader("content-type") ?? "").startsWith("text/html")) return payload;
      return payload.replace(
        offline,
        `${offline}\n  <p>No internet here? <a href="explorer">usergraph's own explorer</a> works offline.</p>`,
      );
    });
  }
}
