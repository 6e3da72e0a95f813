import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, configuredTenants, loadConfig, type Env } from "../../src/config";
import type { DefenderConnection } from "../../src/sources/defender/config";
import type { EsetConnection } from "../../src/sources/eset/config";

const dir = mkdtempSync(join(tmpdir(), "usergraph-tenants-"));
let n = 0;
function file(content: unknown): string {
  const path = join(dir, `tenants-${n++}.json`);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

const SECRETS = {
  C1_DEFENDER_SECRET: "c1-defender-secret-value",
  C1_ESET_USER: "api-user@customer1.example",
  C1_ESET_PASSWORD: "c1-eset-password-value",
  C2_DEFENDER_SECRET: "c2-defender-secret-value",
};
const AUTH = { AUTH_API_KEYS: "a-long-enough-api-key-123@customer1" };

const TWO = {
  tenants: [
    {
      id: "customer1",
      name: "Customer One",
      defender: { tenantId: "c1.onmicrosoft.com", clientId: "app-1", clientSecretEnv: "C1_DEFENDER_SECRET" },
      eset: { usernameEnv: "C1_ESET_USER", passwordEnv: "C1_ESET_PASSWORD", region: "de" },
    },
    {
      id: "customer-2",
      name: "Customer Two",
      defender: { tenantId: "c2.onmicrosoft.com", clientId: "app-2", clientSecretEnv: "C2_DEFENDER_SECRET", apiUrl: "http://127.0.0.1:9/" },
    },
  ],
};

function problemsOf(env: Env): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error("the configuration was accepted");
}

describe("TENANTS_FILE", () => {
  it("reads each tenant's connections, secrets from the variables the file names", () => {
    const config = loadConfig({ TENANTS_FILE: file(TWO), ...SECRETS, ...AUTH });
    expect(config.demo).toBe(false);
    const tenants = configuredTenants(config);
    expect(tenants.map((t) => [t.id, t.name])).toEqual([
      ["customer1", "Customer One"],
      ["customer-2", "Customer Two"],
    ]);
    const d1 = tenants[0]!.connections.DEFENDER as DefenderConnection;
    expect(d1.clientSecret).toBe(SECRETS.C1_DEFENDER_SECRET);
    expect(d1.tokenUrl.href).toBe("https://login.microsoftonline.com/c1.onmicrosoft.com/oauth2/v2.0/token");
    const e1 = tenants[0]!.connections.ESET as EsetConnection;
    expect(e1).toMatchObject({ username: SECRETS.C1_ESET_USER, password: SECRETS.C1_ESET_PASSWORD, region: "de" });
    expect(e1.apiUrl.href).toBe("https://de.user-management.eset.systems/");
    expect((tenants[1]!.connections.DEFENDER as DefenderConnection).apiUrl.href).toBe("http://127.0.0.1:9/");
    // ESET is absent for the second tenant: off for it, not an error.
    expect(tenants[1]!.connections.ESET).toBeUndefined();
    // The single-tenant variables' connections stay empty: the file is the one place credentials come from.
    expect(config.sources.DEFENDER!.connection).toBeUndefined();
  });

  it("without it, today's variables make one tenant `default`", () => {
    const config = loadConfig({
      DEFENDER_TENANT_ID: "t",
      DEFENDER_CLIENT_ID: "c",
      DEFENDER_CLIENT_SECRET: "s",
      AUTH_API_KEYS: "a-long-enough-api-key-123",
    });
    expect(config.tenants).toBeUndefined();
    const tenants = configuredTenants(config);
    expect(tenants).toHaveLength(1);
    expect(tenants[0]!.id).toBe("default");
    expect(tenants[0]!.connections.DEFENDER).toBe(config.sources.DEFENDER!.connection);
  });

  it("lists every problem at once, naming the file's fields, never a secret's value", () => {
    const bad = {
      tenants: [
        { id: "ok", name: "OK", defender: { tenantId: "t", clientId: "c", clientSecretEnv: "C1_DEFENDER_SECRET", color: "red" } },
        { id: "ok", name: "Again", eset: { usernameEnv: "C1_ESET_USER", passwordEnv: "NOT_SET_ANYWHERE" } },
        { id: "Bad_Id", name: "x" },
        { id: "inline", name: "Inline", defender: { tenantId: "t", clientId: "c", clientSecretEnv: "c1-defender-secret-value" } },
        {
          id: "plain",
          name: "Plain",
          defender: { tenantId: "t", clientId: "c", clientSecretEnv: "C2_DEFENDER_SECRET", apiUrl: "http://example.com" },
        },
        { id: "extra", name: "Extra", secrets: {} },
      ],
      version: 2,
    };
    const problems = problemsOf({ TENANTS_FILE: file(bad), ...SECRETS, ...AUTH });
    const text = problems.join("\n");
    expect(text).toMatch(/tenants\[0\] \("ok"\)\.defender: unknown key "color"/);
    expect(text).toMatch(/tenants\[1\] \("ok"\): the id "ok" is used twice/);
    expect(text).toMatch(/tenants\[1\] \("ok"\)\.eset\.passwordEnv names NOT_SET_ANYWHERE, which is not set/);
    expect(text).toMatch(/tenants\[2\]\.id must be 1 to 32 lower-case letters/);
    expect(text).toMatch(/tenants\[3\] \("inline"\)\.defender\.clientSecretEnv must name an environment variable/);
    expect(text).toMatch(/tenants\[4\] \("plain"\)\.defender\.apiUrl must use https/);
    expect(text).toMatch(/tenants\[5\] \("extra"\): unknown key "secrets"/);
    expect(text).toMatch(/unknown key "version"/);
    for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
  });

  it("refuses a file it cannot read or parse, an empty list, and single-tenant credentials beside it", () => {
    expect(problemsOf({ TENANTS_FILE: join(dir, "missing.json"), ...AUTH }).join()).toMatch(/cannot be read \(ENOENT\)/);
    expect(problemsOf({ TENANTS_FILE: file("{not json"), ...AUTH }).join()).toMatch(/is not valid JSON/);
    expect(problemsOf({ TENANTS_FILE: file({ tenants: [] }), ...AUTH }).join()).toMatch(/lists no tenant/);
    expect(problemsOf({ TENANTS_FILE: file(TWO), ...SECRETS, ...AUTH, ESET_USERNAME: "u", ESET_PASSWORD: "p" }).join()).toMatch(
      /TENANTS_FILE is set, and so are ESET_USERNAME, ESET_PASSWORD/,
    );
    expect(problemsOf({ TENANTS_FILE: file(TWO), ...SECRETS, ...AUTH, DEMO: "1" }).join()).toMatch(/DEMO=1 contradicts TENANTS_FILE/);
  });

  it("reads a tenant's own manifests (relative to the file), and lists every problem of them with the others at once", () => {
    const doc = "query TenantOwn { __typename }";
    const good = join(dir, "tenant-manifest.json");
    writeFileSync(good, JSON.stringify({ [createHash("sha256").update(doc).digest("hex")]: doc }));
    const withDocs = { tenants: [{ ...TWO.tenants[0], documents: ["tenant-manifest.json"] }, TWO.tenants[1]] };
    const config = loadConfig({ TENANTS_FILE: file(withDocs), ...SECRETS, ...AUTH });
    expect(configuredTenants(config).map((t) => t.documents)).toEqual([[good], undefined]);

    const corrupt = join(dir, "corrupt-manifest.json");
    writeFileSync(corrupt, JSON.stringify({ [createHash("sha256").update("other").digest("hex")]: doc }));
    const broken = {
      tenants: [
        { ...TWO.tenants[0], documents: ["missing-manifest.json", "corrupt-manifest.json", "", 7] },
        { ...TWO.tenants[1], documents: "tenant-manifest.json" },
      ],
    };
    const problems = problemsOf({
      TENANTS_FILE: file(broken),
      TRUSTED_DOCUMENTS_MANIFESTS: join(dir, "global-missing.json"),
      ...SECRETS,
      ...AUTH,
    });
    const text = problems.join("\n");
    expect(text).toMatch(/tenants\[0\] \("customer1"\)\.documents\[0\]: \S+missing-manifest\.json could not be read/);
    expect(text).toMatch(/tenants\[0\] \("customer1"\)\.documents\[1\]: \S+corrupt-manifest\.json: the id \w+ is not the SHA-256/);
    expect(text).toMatch(/tenants\[0\] \("customer1"\)\.documents\[2\] must be a non-empty string/);
    expect(text).toMatch(/tenants\[0\] \("customer1"\)\.documents\[3\] must be a non-empty string/);
    expect(text).toMatch(/tenants\[1\] \("customer-2"\)\.documents must be an array/);
    // The global manifests' problems are in the same message.
    expect(text).toMatch(/TRUSTED_DOCUMENTS_MANIFESTS: \S+global-missing\.json could not be read/);
    expect(problems).toHaveLength(6);
  });

  it("needs client authentication: tenants' data is never served to anonymous callers by default", () => {
    expect(problemsOf({ TENANTS_FILE: file(TWO), ...SECRETS }).join()).toMatch(/no client authentication/);
  });
});
