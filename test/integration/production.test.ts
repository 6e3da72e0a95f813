import { GraphQLError } from "graphql";
import { DefenderUserDocument } from "../__generated__/operations";
import { formatError } from "../../src/errors/format-error";
import { DEMO } from "../../src/simulator/demo-data";
import { startStack, type Stack } from "../helpers/stack";

const KEY = "production-test-key-6b1e0c";
const headers = { "x-api-key": KEY };

describe("production posture (NODE_ENV=production)", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ NODE_ENV: "production", AUTH_MODE: "", AUTH_API_KEYS: KEY, CORS_ORIGINS: "https://soc.example.com" });
  });
  afterAll(() => stack.close());

  it("turns introspection off", async () => {
    const res = await stack.post(JSON.stringify({ query: "{ __schema { types { name } } }" }), headers);
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/introspection/i);
    const normal = await stack.gql(DefenderUserDocument, { id: DEMO.defenderAlice }, headers);
    expect(normal.body.data?.defenderUser?.id).toBe(DEMO.defenderAlice);
  });

  it("serves no Sandbox landing page", async () => {
    const res = await fetch(stack.gateway.url, { headers: { accept: "text/html" } });
    expect(await res.text()).not.toMatch(/sandbox|embeddable/i);
  });

  it("answers CORS only for allowlisted origins", async () => {
    const preflight = (origin: string) =>
      fetch(stack.gateway.url, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,x-api-key" },
      });
    const allowed = await preflight("https://soc.example.com");
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://soc.example.com");
    const denied = await preflight("https://evil.example.com");
    expect(denied.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("sends security headers on non-GraphQL routes", async () => {
    const res = await fetch(stack.gateway.url.replace("/graphql", "/health/live"));
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("can turn introspection back on explicitly", async () => {
    const open = await startStack({ NODE_ENV: "production", GRAPHQL_INTROSPECTION: "1" });
    try {
      const res = await open.post(JSON.stringify({ query: "{ __schema { queryType { name } } }" }));
      expect(res.body.data).toEqual({ __schema: { queryType: { name: "Query" } } });
    } finally {
      await open.close();
    }
  });
});

describe("formatError", () => {
  it("masks anything unexpected: no message, no stack trace", () => {
    const error = new GraphQLError("boom at /srv/app/secret-path.ts:42", { originalError: new TypeError("x is undefined") });
    const formatted = formatError({ message: error.message, extensions: { code: "INTERNAL_SERVER_ERROR", stacktrace: ["at …"] } }, error);
    expect(formatted).toEqual({ message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } });
  });
});
