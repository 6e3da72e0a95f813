import { SignJWT } from "jose";
import { Authenticator, parseApiKeys, type ApiKeyEntry } from "../../src/auth/authenticator";
import { visibleTenants, type Principal } from "../../src/auth/principal";
import { ConfigError, loadConfig } from "../../src/config";

const KEY = "a-long-enough-api-key-123";

function entries(spec: string): ApiKeyEntry[] {
  const parsed = parseApiKeys(spec);
  if (typeof parsed === "string") throw new Error(parsed);
  return parsed;
}

describe("callers scoped to tenants", () => {
  it("reads `key@tenant+tenant` before `=scopes`, keeping the key itself what is compared and redacted", () => {
    const [plain, two, all, scoped, hashed] = entries(
      `${KEY}1,${KEY}2@customer1+customer-2,${KEY}3@*,${KEY}4@customer1=defender:users:read,sha256:${"ab".repeat(32)}@customer-2`,
    );
    expect(plain!.tenants).toBeUndefined();
    expect(two).toMatchObject({ tenants: ["customer1", "customer-2"], clear: `${KEY}2` });
    expect(all!.tenants).toBe("*");
    expect(scoped).toMatchObject({ tenants: ["customer1"], clear: `${KEY}4` });
    expect([...scoped!.scopes]).toEqual(["defender:users:read"]);
    expect(hashed!.tenants).toEqual(["customer-2"]);
  });

  it("refuses a key naming a tenant that is not configured, without printing the key", () => {
    const problems = (() => {
      try {
        loadConfig({ AUTH_API_KEYS: `${KEY}@nobody`, DEFENDER_TENANT_ID: "t", DEFENDER_CLIENT_ID: "c", DEFENDER_CLIENT_SECRET: "s" });
      } catch (err) {
        if (err instanceof ConfigError) return err.problems.join("\n");
      }
      return "";
    })();
    expect(problems).toMatch(/key#1 names unknown tenant nobody \(configured: default\)/);
    expect(problems).not.toContain(KEY);
    // `key@default` is the same key as `key` in a single-tenant deployment.
    const config = loadConfig({
      AUTH_API_KEYS: `${KEY}@default`,
      DEFENDER_TENANT_ID: "t",
      DEFENDER_CLIENT_ID: "c",
      DEFENDER_CLIENT_SECRET: "s",
    });
    expect(config.auth.apiKeys[0]!.tenants).toEqual(["default"]);
  });

  it("a caller naming no tenant sees the only one of a single-tenant deployment, none of a multi-tenant one", () => {
    const caller = (tenants?: Principal["tenants"]): Principal => ({ kind: "api-key", subject: "k", scopes: new Set(), tenants });
    expect(visibleTenants(caller(), ["default"])).toEqual(["default"]);
    expect(visibleTenants(caller(), ["a", "b"])).toEqual([]);
    expect(visibleTenants(caller("*"), ["a", "b"])).toEqual(["a", "b"]);
    expect(visibleTenants(caller(["b", "gone"]), ["a", "b"])).toEqual(["b"]);
    expect(visibleTenants(caller(["a"]), ["default"])).toEqual([]);
  });

  it('reads a JWT\'s tenants claim (array or "*") and refuses any other shape', async () => {
    const secret = new TextEncoder().encode("x".repeat(40));
    const auth = new Authenticator({
      apiKeys: entries(`${KEY}@b`),
      jwt: { secret, issuer: "iss", audience: "aud", clockToleranceSec: 5, maxAgeSec: 3600 },
    });
    const token = (tenants: unknown) => {
      const claims: Record<string, unknown> = { scp: "defender:users:read" };
      if (tenants !== undefined) claims.tenants = tenants;
      return new SignJWT(claims)
        .setProtectedHeader({ alg: "HS256" })
        .setIssuer("iss")
        .setAudience("aud")
        .setSubject("s")
        .setIssuedAt()
        .setExpirationTime("10m")
        .sign(secret);
    };
    const as = async (t: string) => auth.authenticate({ authorization: `Bearer ${t}` });
    expect(await as(await token(["a", "b"]))).toMatchObject({ kind: "jwt", tenants: ["a", "b"] });
    expect(await as(await token("*"))).toMatchObject({ kind: "jwt", tenants: "*" });
    expect(((await as(await token(undefined))) as Principal).tenants).toBeUndefined();
    expect(await as(await token("a b"))).toMatchObject({ error: "invalid_token", description: expect.stringMatching(/tenants claim/) });
    expect(await as(await token([1]))).toMatchObject({ error: "invalid_token" });
    expect(await as(`${KEY}`)).toMatchObject({ kind: "api-key", tenants: ["b"] });
  });
});
