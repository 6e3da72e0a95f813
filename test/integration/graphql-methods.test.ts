import { connect } from "node:net";
import { startStack, type Stack } from "../helpers/stack";

/** GraphQL over HTTP: /graphql takes GET, POST and OPTIONS; any other method is 405 with `Allow`, not a 404. */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ AUTH_MODE: "", AUTH_API_KEYS: "graphql-methods-key-7c1e4b9a2d" });
});
afterAll(() => stack.close());

describe("a method /graphql does not take", () => {
  it.each(["PUT", "DELETE", "PATCH"])("%s: 405, Allow: GET, POST, OPTIONS, a GraphQL-shaped error, nothing executed", async (method) => {
    const res = await fetch(stack.gateway.url, {
      method,
      headers: { "content-type": "application/json", "x-api-key": "graphql-methods-key-7c1e4b9a2d" },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, POST, OPTIONS");
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    const body = (await res.json()) as { data?: unknown; errors: Array<{ message: string; extensions: { code: string } }> };
    expect(body.data).toBeUndefined();
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0]!.extensions).toEqual({ code: "BAD_REQUEST" });
    expect(body.errors[0]!.message).toContain("POST");
  });

  it("is answered the same without credentials, and GET, POST and OPTIONS still work", async () => {
    const put = await fetch(stack.gateway.url, { method: "PUT" });
    expect(put.status).toBe(405);
    const post = await fetch(stack.gateway.url, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(post.status).toBe(401);
    const ok = await fetch(stack.gateway.url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "graphql-methods-key-7c1e4b9a2d" },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    expect(await ok.json()).toEqual({ data: { __typename: "Query" } });
    // A path usergraph does not serve stays a 404.
    expect((await fetch(stack.gateway.url.replace("/graphql", "/graphq"), { method: "PUT" })).status).toBe(404);
  });

  it("answers before the body arrives: the body is never read", async () => {
    const { hostname, port } = new URL(stack.gateway.url);
    const head = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname);
      let got = "";
      socket.on("data", (d: Buffer) => {
        got += d.toString();
        if (got.includes("\r\n\r\n")) {
          socket.destroy();
          resolve(got);
        }
      });
      socket.on("error", reject);
      // A body of 1,000 bytes announced and never sent: an answer can only come from the headers.
      socket.write(`PATCH /graphql HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n`);
    });
    expect(head).toMatch(/^HTTP\/1\.1 405 /);
    expect(head.toLowerCase()).toContain("allow: get, post, options");
  });
});
