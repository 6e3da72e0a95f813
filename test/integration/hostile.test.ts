import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from "jose";
import { BothUsersDocument, DefenderUserDocument, DefenderUsersDocument, EsetUsersDocument } from "../__generated__/operations";
import { DEMO } from "../../src/simulator/demo-data";
import { SIMULATOR_CREDENTIALS } from "../../src/simulator/simulator";
import { codes, startStack, type Stack } from "../helpers/stack";

const FULL_KEY = "full-access-key-5f2c9a7e1b3d";
const DEFENDER_ONLY_KEY = "defender-only-key-8e4a1c6f0b2d";
const JWT_SECRET = "a-shared-secret-of-at-least-32-characters!";
const ISSUER = "https://issuer.example.com/";
const AUDIENCE = "api://usergraph";
const secretKey = new TextEncoder().encode(JWT_SECRET);

function jwt(claims: Record<string, unknown>, options: { audience?: string; expiresIn?: string | number; issuer?: string } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setSubject("dashboard-bff")
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? "5m")
    .sign(secretKey);
}

const normal = { id: DEMO.defenderAlice, uuid: DEMO.esetAlice };
const full = { "x-api-key": FULL_KEY };
let stack: Stack;
const presentedTokens: string[] = [];

beforeAll(async () => {
  stack = await startStack({
    AUTH_MODE: "",
    AUTH_API_KEYS: `${FULL_KEY},${DEFENDER_ONLY_KEY}=defender:users:read`,
    AUTH_JWT_SECRET: JWT_SECRET,
    AUTH_JWT_ISSUER: ISSUER,
    AUTH_JWT_AUDIENCE: AUDIENCE,
    LOG_LEVEL: "trace",
  });
});
afterAll(() => stack.close());

/** Runs a hostile request, checks no vendor (API or token endpoint) was called, then that normal service goes on. */
async function hostile<T>(attempt: () => Promise<T>): Promise<T> {
  stack.sim.reset();
  const result = await attempt();
  expect(stack.sim.requests).toEqual([]);
  const ok = await stack.gql(BothUsersDocument, normal, full);
  expect(ok.body.errors).toBeUndefined();
  expect(ok.body.data?.esetUser?.displayName).toBe("Alice Example");
  return result;
}

function raw(body: string | Buffer, headers: Record<string, string> = {}, method = "POST", path = "") {
  return fetch(stack.gateway.url + path, { method, headers: { ...full, ...headers }, body: method === "GET" ? undefined : body }).then(
    async (res) => ({
      status: res.status,
      headers: res.headers,
      text: await res.text(),
    }),
  );
}

describe("who may ask", () => {
  it("answers 401 UNAUTHENTICATED with WWW-Authenticate when no credentials are sent", async () => {
    const res = await hostile(() =>
      fetch(stack.gateway.url, { method: "POST", headers: { "content-type": "application/json" }, body: '{"query":"{ __typename }"}' }),
    );
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="usergraph", error="invalid_request"/);
    expect(await res.json()).toMatchObject({ errors: [{ extensions: { code: "UNAUTHENTICATED" } }] });
  });

  it.each([
    ["a wrong API key", { "x-api-key": "not-a-configured-key-000000" }, /not valid/],
    ["a malformed bearer token", { authorization: "Bearer not.a.jwt" }, /malformed|signature/],
    ["a non-Bearer scheme", { authorization: "Basic dXNlcjpwYXNz" }, /must be 'Bearer/],
  ])("answers 401 for %s", async (_name, headers, description) => {
    const res = await hostile(() => stack.gql(DefenderUserDocument, { id: DEMO.defenderAlice }, headers as Record<string, string>));
    expect(res.status).toBe(401);
    expect(codes(res)).toEqual(["UNAUTHENTICATED"]);
    expect(res.headers.get("www-authenticate")).toMatch(description);
  });

  it("answers 401 for an expired JWT, naming the reason", async () => {
    const token = await jwt({ scp: "defender:users:read" }, { expiresIn: Math.floor(Date.now() / 1000) - 600 });
    presentedTokens.push(token);
    const res = await hostile(() => stack.gql(DefenderUserDocument, { id: DEMO.defenderAlice }, { authorization: `Bearer ${token}` }));
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]?.message).toContain("expired");
  });

  it("answers 401 for a JWT minted for another audience or issuer", async () => {
    for (const token of [
      await jwt({ scp: "defender:users:read" }, { audience: "api://other" }),
      await jwt({}, { issuer: "https://evil.example/" }),
    ]) {
      presentedTokens.push(token);
      const res = await hostile(() => stack.gql(DefenderUserDocument, { id: DEMO.defenderAlice }, { authorization: `Bearer ${token}` }));
      expect(res.status).toBe(401);
      expect(res.body.errors?.[0]?.message).toMatch(/aud|iss/);
    }
  });

  it("gives a Defender-only API key its Defender data and FORBIDDEN on ESET, without calling ESET", async () => {
    stack.sim.reset();
    const res = await stack.gql(BothUsersDocument, normal, { authorization: `Bearer ${DEFENDER_ONLY_KEY}` });
    expect(res.status).toBe(200);
    expect(res.body.data?.defenderUser?.id).toBe(DEMO.defenderAlice);
    expect(res.body.data?.esetUser).toBeNull();
    expect(res.body.errors).toEqual([
      expect.objectContaining({ path: ["esetUser"], extensions: { code: "FORBIDDEN", source: "ESET", requiredScope: "eset:users:read" } }),
    ]);
    expect(stack.sim.count({ source: "ESET" })).toBe(0);
    // A refusal is the caller's business, not an incident: logged at info, never as an unexpected error.
    await new Promise((r) => setTimeout(r, 300)); // logs are flushed every 250 ms
    const refusal = stack.logs.entries("missing scope").at(-1);
    expect(refusal).toMatchObject({ level: 30, source: "ESET", requiredScope: "eset:users:read", path: ["esetUser"] });
    expect(stack.logs.entries("unexpected error while resolving")).toEqual([]);
  });

  it("reads scopes from a JWT's scp claim", async () => {
    const token = await jwt({ scp: "eset:users:read" });
    presentedTokens.push(token);
    const res = await stack.gql(BothUsersDocument, normal, { authorization: `Bearer ${token}` });
    expect(res.body.data?.esetUser?.displayName).toBe("Alice Example");
    expect(res.body.data?.defenderUser).toBeNull();
    expect(codes(res)).toEqual(["FORBIDDEN"]);
  });

  it("reads scopes from Entra-style roles", async () => {
    const token = await jwt({ roles: ["defender:users:read", "eset:users:read", "something.else"] });
    presentedTokens.push(token);
    const res = await stack.gql(BothUsersDocument, normal, { authorization: `Bearer ${token}` });
    expect(res.body.errors).toBeUndefined();
  });
});

describe("what they may ask", () => {
  it("refuses 10,000 ids in one list, naming the limit", async () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `user${i}`);
    const res = await hostile(() => stack.gql(DefenderUsersDocument, { ids }, full));
    expect(res.status).toBe(400);
    expect(codes(res)).toEqual(["OPERATION_LIMIT_EXCEEDED"]);
    expect(res.body.errors?.[0]?.message).toContain("10000 ids; the limit is 100 (MAX_DEFENDER_IDS)");
    const eset = await hostile(() => stack.gql(EsetUsersDocument, { uuids: Array.from({ length: 10_000 }, (_, i) => `u-${i}`) }, full));
    expect(eset.body.errors?.[0]?.message).toContain("the limit is 1000 (MAX_ESET_IDS)");
  });

  it("refuses 300 aliases of one field quickly, naming the limit", async () => {
    const query = `{ ${Array.from({ length: 300 }, (_, i) => `a${i}: defenderUser(id: "user1") { id }`).join(" ")} }`;
    const started = Date.now();
    const res = await hostile(() => stack.post(JSON.stringify({ query }), full));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.message).toContain("300 aliases; the limit is 30 (MAX_ALIASES)");
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ limit: "MAX_ALIASES", max: 30, actual: 300 });
  });

  it("refuses a query 50 levels deep, naming the limit", async () => {
    const query = `{ __type(name: "Query") { ${"ofType { ".repeat(49)}name${" }".repeat(49)} } }`;
    const res = await hostile(() => stack.post(JSON.stringify({ query }), full));
    expect(res.status).toBe(400);
    expect(res.body.errors?.map((e) => e.message)).toContain("The operation has a depth of 51; the limit is 10 (MAX_DEPTH).");
  });

  it("refuses a 10 MB body with 413", async () => {
    const res = await hostile(() => raw(Buffer.alloc(10 * 1024 * 1024, "a"), { "content-type": "application/json" }));
    expect(res.status).toBe(413);
    expect(JSON.parse(res.text)).toEqual({
      errors: [{ message: "The request body is larger than 262144 bytes (MAX_BODY_BYTES).", extensions: { code: "PAYLOAD_TOO_LARGE" } }],
    });
  });

  it("refuses malformed JSON with 400", async () => {
    const res = await hostile(() => raw('{"query": "{ __typename ', { "content-type": "application/json" }));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toMatchObject({
      errors: [{ message: "The request body is not valid JSON.", extensions: { code: "BAD_REQUEST" } }],
    });
  });

  it("refuses a body in a content type it does not speak with 415", async () => {
    const res = await hostile(() => raw("<query/>", { "content-type": "application/xml" }));
    expect(res.status).toBe(415);
    expect(JSON.parse(res.text)).toMatchObject({ errors: [{ extensions: { code: "UNSUPPORTED_MEDIA_TYPE" } }] });
  });

  it("blocks a text/plain POST as a potential CSRF", async () => {
    const res = await hostile(() => raw('{"query":"{ __typename }"}', { "content-type": "text/plain" }));
    expect(res.status).toBe(400);
    expect(res.text).toContain("Cross-Site Request Forgery");
  });

  it("refuses a mutation sent over GET", async () => {
    const res = await hostile(() =>
      raw("", { "apollo-require-preflight": "1" }, "GET", `?query=${encodeURIComponent("mutation { __typename }")}`),
    );
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.text).toMatch(/mutation/i);
  });

  it.each([
    ["path traversal", "../../etc/passwd"],
    ["a control character", "alice\u0007"],
    ["a newline (log injection)", 'alice\n{"level":60,"msg":"forged"}'],
    ["a right-to-left override", "admin\u202Etxt.exe"],
    ["an id longer than 256 characters", "x".repeat(100_000)],
  ])("refuses a Defender id with %s as BAD_USER_INPUT, without echoing it", async (_name, id) => {
    const res = await hostile(() => stack.gql(DefenderUserDocument, { id }, full));
    expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.body.errors?.[0]?.message).toContain("a Defender user id is a Windows account name");
    expect(res.text.length).toBeLessThan(2000);
  });

  it.each([
    ["unicode", "名前"],
    ["a slash", "a/b"],
    ["empty list", null],
  ])("refuses an ESET uuid list with %s as BAD_USER_INPUT", async (_name, uuid) => {
    const res = await hostile(() => stack.gql(EsetUsersDocument, { uuids: uuid === null ? [] : [DEMO.esetAlice, uuid] }, full));
    expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
  });

  it("lists every problem of an invalid argument at once", async () => {
    const res = await hostile(() => stack.gql(DefenderUsersDocument, { ids: ["ok", "a/b", "c\u0000"] }, full));
    expect(res.body.errors?.[0]?.extensions?.validationErrors).toEqual([
      { argument: "ids", problems: [expect.stringContaining("each id: a Defender user id is a Windows account name")] },
    ]);
  });
});

describe("secret hygiene across the hostile suite", () => {
  it("never shows an API key, JWT, JWT secret or vendor secret in a log line or a response", async () => {
    // Its own share of every kind of credential, so that it holds whether it runs first or after the
    // tests above (whose tokens, lines and responses it also searches).
    const valid = await jwt({ scp: "defender:users:read eset:users:read" });
    const expired = await jwt({ scp: "defender:users:read" }, { expiresIn: Math.floor(Date.now() / 1000) - 600 });
    presentedTokens.push(valid, expired);
    for (const headers of [
      full,
      { authorization: `Bearer ${DEFENDER_ONLY_KEY}` },
      { authorization: `Bearer ${valid}` },
      { authorization: `Bearer ${expired}` },
      { "x-api-key": "not-a-configured-key-000000" },
    ]) {
      await stack.gql(BothUsersDocument, normal, headers);
    }
    stack.sim.revokeTokens(); // the vendors' tokens are fetched again, and logged if anything logs them
    await stack.gql(BothUsersDocument, normal, full);
    await stack.gql(DefenderUserDocument, { id: 'alice\n{"level":60,"msg":"forged"}' }, full);
    await new Promise((r) => setTimeout(r, 300)); // logs are flushed every 250 ms
    const secrets = [
      FULL_KEY,
      DEFENDER_ONLY_KEY,
      JWT_SECRET,
      SIMULATOR_CREDENTIALS.clientSecret,
      SIMULATOR_CREDENTIALS.esetPassword,
      ...presentedTokens,
      ...stack.sim.issuedTokens,
    ];
    expect(presentedTokens.length).toBeGreaterThanOrEqual(2);
    expect(stack.sim.issuedTokens.length).toBeGreaterThanOrEqual(4);
    expect(stack.logs.lines.length).toBeGreaterThan(10);
    const haystack = [...stack.logs.lines, ...stack.responses].join("\n");
    expect(secrets.filter((s) => haystack.includes(s))).toEqual([]);
    // The forged log line from the newline test must not appear as a line of its own.
    expect(stack.logs.lines.some((l) => l.startsWith('{"level":60,"msg":"forged"'))).toBe(false);
  });
});

describe("JWKS", () => {
  let jwks: Server;
  let jwksStack: Stack;
  let signingKey: KeyLike;
  beforeAll(async () => {
    const pair = await generateKeyPair("RS256");
    signingKey = pair.privateKey as KeyLike;
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "RS256", use: "sig" };
    jwks = createServer((_req, res) =>
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [publicJwk] })),
    );
    await new Promise<void>((r) => jwks.listen(0, "127.0.0.1", () => r()));
    jwksStack = await startStack({
      AUTH_MODE: "",
      AUTH_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/keys`,
      AUTH_JWT_ISSUER: ISSUER,
      AUTH_JWT_AUDIENCE: AUDIENCE,
    });
  });
  afterAll(async () => {
    await jwksStack.close();
    jwks.close();
  });

  it("accepts a token signed by a key from the JWKS and refuses one signed by another key", async () => {
    const sign = (key: KeyLike | Uint8Array, alg: string) =>
      new SignJWT({ scp: "defender:users:read eset:users:read" })
        .setProtectedHeader({ alg, kid: "k1" })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(key);
    const good = await jwksStack.gql(
      DefenderUserDocument,
      { id: DEMO.defenderAlice },
      { authorization: `Bearer ${await sign(signingKey, "RS256")}` },
    );
    expect(good.body.data?.defenderUser?.id).toBe(DEMO.defenderAlice);
    const other = (await generateKeyPair("RS256")).privateKey as KeyLike;
    const bad = await jwksStack.gql(
      DefenderUserDocument,
      { id: DEMO.defenderAlice },
      { authorization: `Bearer ${await sign(other, "RS256")}` },
    );
    expect(bad.status).toBe(401);
    // An HS256 token "signed" with the public key must not pass (algorithm confusion).
    const confused = await jwksStack.gql(
      DefenderUserDocument,
      { id: DEMO.defenderAlice },
      { authorization: `Bearer ${await sign(secretKey, "HS256")}` },
    );
    expect(confused.status).toBe(401);
  });
});
