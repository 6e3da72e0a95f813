import { connect } from "node:net";
import { DEMO } from "../../src/simulator/demo-data";
import { startStack, type Stack } from "../helpers/stack";

/**
 * Class 1 of the hostile suite: going *around* client auth. Every spelling of the GraphQL path that the
 * router might send to the GraphQL route, by POST, GET and HEAD, without credentials, against a
 * production-posture gateway: each must be refused (401, or 404/400 when the router does not match it)
 * and no vendor (API or token endpoint) may be called.
 */
const KEY = "bypass-suite-key-4c1d8e2a9f7b";
let stack: Stack;
let port: number;

beforeAll(async () => {
  stack = await startStack({ NODE_ENV: "production", AUTH_MODE: "", AUTH_API_KEYS: KEY, GRAPHQL_INTROSPECTION: "1" });
  port = Number(new URL(stack.gateway.url).port);
});
afterAll(() => stack.close());

/** One request as raw bytes, so the request target goes on the wire exactly as written (fetch would normalise it). */
function rawRequest(
  method: string,
  target: string,
  body = "",
  extra: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {
    host: `127.0.0.1:${port}`,
    "content-type": "application/json",
    "apollo-require-preflight": "1",
    connection: "close",
    ...(body !== "" ? { "content-length": String(Buffer.byteLength(body)) } : {}),
    ...extra,
  };
  const head = `${method} ${target} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\r\n")}\r\n\r\n`;
  return new Promise((resolve, reject) => {
    // write, not end: a half-closed socket may be dropped before a slow answer; `connection: close` ends it.
    const socket = connect(port, "127.0.0.1", () => socket.write(head + body));
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("latin1");
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text });
    });
  });
}

// A query that makes a Defender call when it runs: any data in an answer means a vendor was reached.
const QUERY = `{ defenderUser(id: "${DEMO.defenderAlice.replace(/\\/g, "\\\\")}") { id } }`;
const BODY = JSON.stringify({ query: QUERY });
const QS = `query=${encodeURIComponent(QUERY)}`;

const SPELLINGS: Array<[string, (p: number) => string]> = [
  ["the plain path", () => "/graphql"],
  ["one percent-encoded letter", () => "/%67raphql"],
  ["every letter percent-encoded", () => "/%67%72%61%70%68%71%6c"],
  ["upper-case percent-encoding", () => "/%67%72%61%70%68%71%6C"],
  ["the absolute form", (p) => `http://127.0.0.1:${p}/graphql`],
  ["the absolute form with another host", () => "http://evil.example/graphql"],
  ["the absolute form, percent-encoded", (p) => `http://127.0.0.1:${p}/%67raphql`],
  ["a trailing ?", () => "/graphql?"],
  ["a trailing /", () => "/graphql/"],
  ["a ;parameter", () => "/graphql;a=b"],
  ["a #fragment", () => "/graphql#x"],
  ["a double slash", () => "//graphql"],
  ["a dot segment", () => "/./graphql"],
  ["a dot-dot segment", () => "/x/../graphql"],
  ["upper case", () => "/GRAPHQL"],
  ["an encoded slash", () => "/%2Fgraphql"],
  ["an encoded ?", () => "/graphql%3F"],
  ["a trailing NUL", () => "/graphql%00"],
  ["a trailing space", () => "/graphql%20"],
];

describe("no way around client auth", () => {
  it.each(SPELLINGS)("refuses a POST to %s without credentials and calls no vendor", async (_name, target) => {
    stack.sim.reset();
    const res = await rawRequest("POST", target(port), BODY);
    expect([400, 401, 404]).toContain(res.status);
    expect(res.text).not.toContain(DEMO.defenderAlice.split("\\").pop()!);
    expect(stack.sim.requests).toEqual([]);
  });

  it.each(SPELLINGS)("refuses a GET to %s without credentials and calls no vendor", async (_name, target) => {
    stack.sim.reset();
    const t = target(port);
    const res = await rawRequest("GET", `${t}${t.includes("?") ? "&" : "?"}${QS}`);
    expect([400, 401, 404]).toContain(res.status);
    expect(stack.sim.requests).toEqual([]);
  });

  it.each(SPELLINGS)("refuses a HEAD to %s with a query without credentials and calls no vendor", async (_name, target) => {
    stack.sim.reset();
    const t = target(port);
    const res = await rawRequest("HEAD", `${t}${t.includes("?") ? "&" : "?"}${QS}`);
    expect([400, 401, 404, 405]).toContain(res.status);
    expect(stack.sim.requests).toEqual([]);
  });

  it("refuses a GET that asks for HTML but carries a query, and one that claims HTML with POST", async () => {
    stack.sim.reset();
    const get = await rawRequest("GET", `/graphql?${QS}`, "", { accept: "text/html" });
    expect([401, 404]).toContain(get.status);
    // A landing-page GET that carries a body gets past the route hook without a principal; the context
    // refuses it, and says so as UNAUTHENTICATED (not a masked internal error).
    const withBody = await rawRequest("GET", "/graphql", BODY, { accept: "text/html" });
    expect(withBody.status).toBe(401);
    expect(withBody.text).toContain('"code":"UNAUTHENTICATED"');
    const post = await rawRequest("POST", "/graphql", BODY, { accept: "text/html" });
    expect(post.status).toBe(401);
    expect(stack.sim.requests).toEqual([]);
  });

  it("answers the same spellings with data when the key is sent, so the refusals above are auth's doing", async () => {
    for (const target of ["/%67raphql", `http://127.0.0.1:${port}/graphql`]) {
      stack.sim.reset();
      const res = await rawRequest("POST", target, BODY, { "x-api-key": KEY });
      expect(res.status).toBe(200);
      expect(res.text).toContain('"defenderUser":{"id"');
      expect(stack.sim.count({ source: "DEFENDER", kind: "api" })).toBe(1);
    }
  });
});
