import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { DefenderUserDocument, EsetUserDocument, EsetUsersDocument } from "../__generated__/operations";
import { DEMO } from "../../src/simulator/demo-data";
import { codes, startStack, type Stack } from "../helpers/stack";

/**
 * Only the vendor's own "no such resource" reads as null. A 404 from anything else — a wrong path in the
 * API URL, a reverse proxy's page, a token endpoint's 404 — is an error (UPSTREAM_BAD_RESPONSE, or the
 * token endpoint's failure), never a silent "this user does not exist".
 */

/** A loopback server that answers every request with 404, as a proxy or a wrong host does. */
async function notFoundServer(answer: {
  body: string;
  contentType?: string;
}): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits++;
    req.resume();
    req.on("end", () => {
      res.writeHead(404, answer.contentType ? { "content-type": answer.contentType } : {});
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const NGINX_404 =
  "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

describe("a 404 that is not the vendor's own", () => {
  let stack: Stack | undefined;
  let other: Awaited<ReturnType<typeof notFoundServer>> | undefined;
  afterEach(async () => {
    await stack?.close();
    await other?.close();
    stack = undefined;
    other = undefined;
  });

  it("DEFENDER_API_URL pointing at a proxy's HTML 404 page: UPSTREAM_BAD_RESPONSE, not a null user or machine", async () => {
    other = await notFoundServer({ body: NGINX_404, contentType: "text/html" });
    stack = await startStack({ DEFENDER_API_URL: `${other.url}/wrong-prefix` });
    const user = await stack.gql(DefenderUserDocument, { id: DEMO.defenderAlice });
    expect(user.body.data?.defenderUser).toBeNull();
    expect(codes(user)).toEqual(["UPSTREAM_BAD_RESPONSE"]);
    expect(user.body.errors?.[0]?.extensions).toMatchObject({ source: "DEFENDER", status: 404 });
    const machine = await stack.post(JSON.stringify({ query: `{ defenderMachine(id: "no-such-machine") { id } }` }));
    expect(codes(machine)).toEqual(["UPSTREAM_BAD_RESPONSE"]);
    expect(other.hits()).toBeGreaterThanOrEqual(2);
  });

  it("ESET_API_URL pointing at a bare 404 (no body, no ESET request-id): UPSTREAM_BAD_RESPONSE for a uuid and for a batch", async () => {
    other = await notFoundServer({ body: "" });
    stack = await startStack({ ESET_API_URL: other.url });
    const one = await stack.gql(EsetUserDocument, { uuid: DEMO.esetAlice });
    expect(one.body.data?.esetUser).toBeNull();
    expect(codes(one)).toEqual(["UPSTREAM_BAD_RESPONSE"]);
    expect(one.body.errors?.[0]?.extensions).toMatchObject({ source: "ESET", status: 404 });
    // batchGetUsers' 404 is "one uuid is unknown" only when ESET says so: not bisected down to silent nulls.
    const batch = await stack.gql(EsetUsersDocument, { uuids: [DEMO.esetAlice, DEMO.esetBob] });
    expect(codes(batch).length).toBeGreaterThan(0);
    expect(codes(batch).every((c) => c === "UPSTREAM_BAD_RESPONSE")).toBe(true);
  });

  it("a token endpoint answering 404 fails the field instead of reading as an unknown user", async () => {
    other = await notFoundServer({ body: NGINX_404, contentType: "text/html" });
    stack = await startStack({ DEFENDER_TOKEN_URL: `${other.url}/common/oauth2/v2.0/token` });
    const res = await stack.gql(DefenderUserDocument, { id: DEMO.defenderAlice });
    expect(res.body.data?.defenderUser).toBeNull();
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: "UPSTREAM_ERROR", source: "DEFENDER", phase: "token", status: 404 });
    expect(stack.sim.count({ source: "DEFENDER", kind: "api" })).toBe(0);
  });

  it("an HTML 404 page on ESET's route (even with ESET's request-id header) is not ESET's not-found", async () => {
    stack = await startStack();
    stack.sim.inject({ target: "eset", kind: "status", status: 404, body: NGINX_404, headers: { "content-type": "text/html" } });
    const res = await stack.gql(EsetUserDocument, { uuid: DEMO.esetAlice });
    expect(codes(res)).toEqual(["UPSTREAM_BAD_RESPONSE"]);
  });

  it("a Defender 404 whose JSON is not Defender's error body (another service's) is not Defender's not-found", async () => {
    stack = await startStack();
    stack.sim.inject({
      target: "defender",
      kind: "status",
      status: 404,
      body: JSON.stringify({ statusCode: 404, message: "Route not found" }),
    });
    const res = await stack.gql(DefenderUserDocument, { id: DEMO.defenderAlice });
    expect(codes(res)).toEqual(["UPSTREAM_BAD_RESPONSE"]);
  });

  it("the vendors' own 404s still read as null with no error (the simulator sends their documented bodies)", async () => {
    stack = await startStack();
    const defender = await stack.gql(DefenderUserDocument, { id: "nobody-here" });
    expect(defender.body).toEqual({ data: { defenderUser: null } });
    const eset = await stack.gql(EsetUserDocument, { uuid: "00000000-0000-4000-8000-00000000dead" });
    expect(eset.body).toEqual({ data: { esetUser: null } });
    const batch = await stack.gql(EsetUsersDocument, { uuids: [DEMO.esetAlice, "00000000-0000-4000-8000-00000000dead"] });
    expect(batch.body.errors).toBeUndefined();
    expect(batch.body.data?.esetUsers?.map((u) => u?.uuid ?? null)).toEqual([DEMO.esetAlice, null]);
    const statuses = stack.sim.requests.filter((r) => r.kind === "api").map((r) => r.status);
    expect(statuses.filter((s) => s === 404).length).toBeGreaterThanOrEqual(3);
  });
});
