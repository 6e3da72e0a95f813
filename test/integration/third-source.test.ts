import "reflect-metadata";
import { DEMO } from "../../src/simulator/demo-data";
import { registerSource } from "../../src/sources";
import { acmeSource } from "../fixtures/third-source/register";
import { startAcmeServer, type AcmeServer } from "../fixtures/third-source/server";
import { codes, startStack, type Stack } from "../helpers/stack";

// The one line: a third vendor joins through the registry the built-in sources use, with no file of the
// gateway edited. Everything else about it lives in test/fixtures/third-source/.
registerSource(acmeSource);

/**
 * Issue 20, first part: the core names no vendor. A tiny third source (Acme Directory, on its own loopback
 * server) is registered and queried through the real gateway; its price cap, error words, scope, readiness
 * and variables all come from its own description.
 */
describe("a third source registered from its own folder", () => {
  const started: Array<{ close(): Promise<void> }> = [];
  afterAll(() => Promise.all(started.map((s) => s.close())));

  const acmeWith = async (options: { refuseTokens?: boolean } = {}): Promise<AcmeServer> => {
    const acme = await startAcmeServer();
    acme.refuseTokens = options.refuseTokens ?? false;
    started.push(acme);
    return acme;
  };
  const stackWith = async (acme: AcmeServer | undefined, env: Record<string, string> = {}): Promise<Stack> => {
    const acmeEnv: Record<string, string> = acme
      ? { ACME_URL: acme.url, ACME_CLIENT_ID: "acme-client", ACME_CLIENT_SECRET: "acme-secret-value-7f3a" }
      : {};
    const stack = await startStack({ ...acmeEnv, ...env });
    started.push(stack);
    return stack;
  };
  const userCalls = (acme: AcmeServer) => acme.requests.filter((r) => r.path.startsWith("/users/"));

  it("answers its field through the gateway, with a token from its own token endpoint", async () => {
    const acme = await acmeWith();
    const stack = await stackWith(acme);
    const res = await stack.post(
      JSON.stringify({ query: '{ acmeUser(id: "u1") { id displayName } unknown: acmeUser(id: "nobody") { id } }' }),
    );
    expect(res.body).toEqual({ data: { acmeUser: { id: "u1", displayName: "Wile E. Coyote" }, unknown: null } });
    expect(acme.requests.map((r) => `${r.method} ${r.path}`).sort()).toEqual(["GET /users/nobody", "GET /users/u1", "POST /token"]);
    expect(userCalls(acme).every((r) => r.authorization === "Bearer acme-token-1")).toBe(true);
    // The built-in sources still answer beside it.
    const both = await stack.post(
      JSON.stringify({ query: `{ acmeUser(id: "u2") { displayName } esetUser(uuid: "${DEMO.esetAlice}") { uuid } }` }),
    );
    expect(both.body).toEqual({ data: { acmeUser: { displayName: "Road Runner" }, esetUser: { uuid: DEMO.esetAlice } } });
    // Its secret is redacted from the logs like a built-in source's.
    expect(stack.logs.text()).not.toContain("acme-secret-value-7f3a");
  });

  it("prices it with the cap it declares: three users fit MAX_ACME_COST=3, four are refused before any Acme call", async () => {
    const acme = await acmeWith();
    const stack = await stackWith(acme);
    const aliases = (n: number) => Array.from({ length: n }, (_, i) => `u${i}: acmeUser(id: "id-${i}") { id }`).join(" ");
    const three = await stack.post(JSON.stringify({ query: `{ ${aliases(3)} }` }));
    expect(three.body.errors).toBeUndefined();
    expect(userCalls(acme)).toHaveLength(3);
    const four = await stack.post(JSON.stringify({ query: `{ ${aliases(4)} }` }));
    expect(four.status).toBe(400);
    expect(codes(four)).toEqual(["OPERATION_LIMIT_EXCEEDED"]);
    expect(four.body.errors![0]!.extensions!.problems).toEqual(["it may make 4 Acme calls; the limit is 3 (MAX_ACME_COST)"]);
    expect(userCalls(acme)).toHaveLength(3);
  });

  it("reads its own variables: MAX_ACME_COST raises its cap", async () => {
    const acme = await acmeWith();
    const stack = await stackWith(acme, { MAX_ACME_COST: "5" });
    const res = await stack.post(
      JSON.stringify({ query: `{ ${Array.from({ length: 5 }, (_, i) => `u${i}: acmeUser(id: "u${i}") { id }`).join(" ")} }` }),
    );
    expect(res.body.errors).toBeUndefined();
    expect(stack.gateway.config.limits.sourceCost).toEqual({ DEFENDER: 100, ACME: 5 });
  });

  it("words its vendor's refusal in its own vocabulary, under its own name", async () => {
    const acme = await acmeWith();
    const stack = await stackWith(acme);
    const res = await stack.post(JSON.stringify({ query: '{ acmeUser(id: "forbidden") { id } }' }));
    expect(res.body.data).toEqual({ acmeUser: null });
    expect(res.body.errors).toEqual([
      {
        message: "Acme Directory refused access (HTTP 403): the Acme client needs the directory:read grant.",
        locations: [{ line: 1, column: 3 }],
        path: ["acmeUser"],
        extensions: { code: "UPSTREAM_FORBIDDEN", source: "ACME", status: 403, upstreamCode: "insufficient_grant" },
      },
    ]);
  });

  it("answers SOURCE_NOT_CONFIGURED naming its own variables, and shows as not configured, when they are not set", async () => {
    const stack = await stackWith(undefined);
    const res = await stack.post(JSON.stringify({ query: '{ acmeUser(id: "u1") { id } }' }));
    expect(codes(res)).toEqual(["SOURCE_NOT_CONFIGURED"]);
    expect(res.body.errors![0]!.message).toBe(
      "Acme Directory is not configured on this usergraph: an operator must set ACME_CLIENT_ID and ACME_CLIENT_SECRET.",
    );
    const ready = (await (await fetch(new URL("/health/ready", stack.gateway.url))).json()) as any;
    expect(ready.sources.ACME).toEqual({ configured: false });
  });

  it("reports its readiness by its name: token and circuit, degraded alone when its token endpoint refuses", async () => {
    const good = await stackWith(await acmeWith());
    const ok = await fetch(new URL("/health/ready", good.gateway.url));
    expect(ok.status).toBe(200);
    const okBody = (await ok.json()) as any;
    expect(okBody.sources.ACME).toEqual({ configured: true, token: "ok", circuit: "closed" });
    expect(okBody.degraded).toEqual([]);

    const refusing = await stackWith(await acmeWith({ refuseTokens: true }));
    const bad = await fetch(new URL("/health/ready", refusing.gateway.url));
    expect(bad.status).toBe(200);
    const badBody = (await bad.json()) as any;
    expect(badBody.degraded).toEqual(["ACME"]);
    expect(badBody.sources.ACME.token).toMatch(/^failed: http 401/);
    expect(badBody.sources.DEFENDER.token).toBe("ok");
  });

  it("needs its own scope: a caller without acme:users:read is refused that field alone, with no Acme call", async () => {
    const acme = await acmeWith();
    const esetOnly = "third-source-eset-only-key-41c9";
    const acmeOnly = "third-source-acme-only-key-82d7";
    const stack = await stackWith(acme, { AUTH_MODE: "", AUTH_API_KEYS: `${esetOnly}=eset:users:read,${acmeOnly}=acme:users:read` });
    const query = JSON.stringify({ query: `{ acmeUser(id: "u1") { id } esetUser(uuid: "${DEMO.esetAlice}") { uuid } }` });
    const refused = await stack.post(query, { authorization: `Bearer ${esetOnly}` });
    expect(refused.body.data).toEqual({ acmeUser: null, esetUser: { uuid: DEMO.esetAlice } });
    expect(refused.body.errors![0]).toMatchObject({
      message: "This caller may not read Acme Directory users: it needs the acme:users:read scope.",
      extensions: { code: "FORBIDDEN", source: "ACME", requiredScope: "acme:users:read" },
    });
    expect(userCalls(acme)).toHaveLength(0);
    const served = await stack.post(JSON.stringify({ query: '{ acmeUser(id: "u1") { id } }' }), { authorization: `Bearer ${acmeOnly}` });
    expect(served.body).toEqual({ data: { acmeUser: { id: "u1" } } });
  });
});
