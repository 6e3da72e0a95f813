import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadConfig, type Config } from "../../src/config";
import type { DefenderConnection, DefenderSettings } from "../../src/sources/defender/config";
import type { EsetConnection } from "../../src/sources/eset/config";

/** Each source's part of the configuration, as its own config.ts typed it. */
const defender = (config: Config) => config.sources.DEFENDER?.connection as DefenderConnection | undefined;
const eset = (config: Config) => config.sources.ESET?.connection as EsetConnection | undefined;
const defenderSettings = (config: Config) => config.sources.DEFENDER!.settings as DefenderSettings;

describe("loadConfig", () => {
  it("runs demo mode on loopback with documented defaults when nothing is set", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      demo: true,
      port: 4000,
      host: "127.0.0.1",
      upstreamTimeoutMs: 10_000,
      requestDeadlineMs: 20_000,
    });
    expect(defender(config)).toBeUndefined();
    expect(eset(config)).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("enables Defender with all three variables and fills the tenant into the token URL", () => {
    const config = loadConfig({
      DEFENDER_TENANT_ID: "contoso.onmicrosoft.com",
      DEFENDER_CLIENT_ID: "app",
      DEFENDER_CLIENT_SECRET: "s3cret-value",
      AUTH_API_KEYS: "a-long-enough-api-key-123",
    });
    expect(config.demo).toBe(false);
    expect(config.host).toBe("0.0.0.0");
    expect(eset(config)).toBeUndefined();
    expect(defender(config)?.tokenUrl.href).toBe("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
    expect(defender(config)?.apiUrl.href).toBe("https://api.security.microsoft.com/");
    expect(defender(config)?.scope).toBe("https://api.securitycenter.microsoft.com/.default");
  });

  it("derives ESET hosts from the region", () => {
    const config = loadConfig({ ESET_USERNAME: "u@example.com", ESET_PASSWORD: "pw-value", ESET_REGION: "DE", AUTH_MODE: "none" });
    expect(eset(config)?.apiUrl.href).toBe("https://de.user-management.eset.systems/");
    expect(eset(config)?.tokenUrl.href).toBe("https://de.business-account.iam.eset.systems/oauth/token");
  });

  it("forces demo mode with DEMO=1 even when credentials are set", () => {
    const config = loadConfig({ DEMO: "1", ESET_USERNAME: "u@example.com", ESET_PASSWORD: "pw-value" });
    expect(config.demo).toBe(true);
    expect(eset(config)).toBeUndefined();
    expect(config.ignoredByDemo).toEqual(["ESET_USERNAME", "ESET_PASSWORD"]);
    expect(loadConfig({}).ignoredByDemo).toEqual([]);
  });

  it("refuses to fall back to demo mode with DEMO=0 when no vendor credentials are set", () => {
    expect(() => loadConfig({ DEMO: "0" })).toThrow(/DEMO=0 but no vendor credentials are set/);
    expect(() => loadConfig({ DEMO: "off", DEFENDER_CLIENT_SECRET: "" })).toThrow(ConfigError);
    const config = loadConfig({ DEMO: "0", ESET_USERNAME: "u@example.com", ESET_PASSWORD: "pw-value", AUTH_MODE: "none" });
    expect(config.demo).toBe(false);
    expect(eset(config)?.username).toBe("u@example.com");
  });

  it("lists every problem in one error and never the secret values", () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({
        DEFENDER_CLIENT_SECRET: "very-secret-value",
        ESET_PASSWORD: "another-secret",
        DEMO: "perhaps",
        LOG_LEVEL: "loud",
        DEFENDER_CONCURRENCY: "0",
      });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems).toHaveLength(5);
    expect(error!.message).not.toContain("very-secret-value");
    expect(error!.message).not.toContain("another-secret");
    expect(error!.problems.join("\n")).toMatch(/DEFENDER_TENANT_ID and DEFENDER_CLIENT_ID are missing/);
    expect(error!.problems.join("\n")).toMatch(/ESET_USERNAME is missing/);
  });

  it("gives each caller 60% of every outbound window unless RATE_LIMIT_CALLER_SHARE says otherwise (1 to 100)", () => {
    expect(loadConfig({}).rateLimitCallerShare).toBe(0.6);
    expect(loadConfig({ RATE_LIMIT_CALLER_SHARE: "100" }).rateLimitCallerShare).toBe(1);
    for (const bad of ["0", "101", "60%", "0.6"])
      expect(() => loadConfig({ RATE_LIMIT_CALLER_SHARE: bad })).toThrow(/RATE_LIMIT_CALLER_SHARE/);
  });

  it("keeps one Defender budget for the app unless DEFENDER_RATE_LIMIT_SCOPE=endpoint asks for one per endpoint family", () => {
    expect(defenderSettings(loadConfig({})).rateLimitScope).toBe("app");
    expect(defenderSettings(loadConfig({ DEFENDER_RATE_LIMIT_SCOPE: "endpoint" })).rateLimitScope).toBe("endpoint");
    expect(() => loadConfig({ DEFENDER_RATE_LIMIT_SCOPE: "per-api" })).toThrow(/DEFENDER_RATE_LIMIT_SCOPE/);
  });

  it("documents every variable it reads in docs/configuration.md, the sources' own included", () => {
    const root = join(__dirname, "..", "..");
    const sourceConfigs = readdirSync(join(root, "src", "sources"), { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(root, "src", "sources", d.name, "config.ts")))
      .map((d) => join(root, "src", "sources", d.name, "config.ts"));
    const source = [join(root, "src", "config.ts"), ...sourceConfigs].map((file) => readFileSync(file, "utf8")).join("\n");
    const docs = readFileSync(join(root, "docs", "configuration.md"), "utf8");
    const read = [...source.matchAll(/read\.\w+\("([A-Z][A-Z0-9_]+)"|env\.([A-Z][A-Z0-9_]+)|"([A-Z][A-Z0-9]*_[A-Z0-9_]+)"/g)].map(
      (m) => m[1] ?? m[2] ?? m[3]!,
    );
    expect(read).toEqual(expect.arrayContaining(["MAX_DEFENDER_COST", "ESET_PENDING_POLL_MS", "DEFENDER_CLIENT_SECRET", "MAX_COST"]));
    expect(read.length).toBeGreaterThan(30);
    expect([...new Set(read)].filter((name) => !docs.includes(`\`${name}\``))).toEqual([]);
  });

  it("reads the shared tier: off by default, REDIS_URL with its password never echoed when wrong", () => {
    expect(loadConfig({}).redis).toBeUndefined();
    expect(loadConfig({ REDIS_URL: "rediss://:pw@cache.internal:6380/2" }).redis).toEqual({
      url: "rediss://:pw@cache.internal:6380/2",
      keyPrefix: "usergraph:",
      commandTimeoutMs: 500,
    });
    let error: ConfigError | undefined;
    try {
      loadConfig({ REDIS_URL: "http://:hunter2-secret@cache.internal", REDIS_KEY_PREFIX: "has space", REDIS_COMMAND_TIMEOUT_MS: "0" });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error?.problems).toEqual([
      expect.stringContaining("REDIS_COMMAND_TIMEOUT_MS"),
      expect.stringContaining("REDIS_KEY_PREFIX"),
      "REDIS_URL must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379/0",
    ]);
    expect(error?.message).not.toContain("hunter2");
  });

  it("refuses credentials inside URLs and plain http to non-loopback hosts", () => {
    expect(() =>
      loadConfig({ ESET_USERNAME: "u", ESET_PASSWORD: "pw-value", ESET_API_URL: "https://user:pw@eu.user-management.eset.systems" }),
    ).toThrow(/must not carry credentials/);
    expect(() => loadConfig({ ESET_USERNAME: "u", ESET_PASSWORD: "pw-value", ESET_TOKEN_URL: "http://10.0.0.5/oauth/token" })).toThrow(
      /must use https/,
    );
    expect(
      eset(loadConfig({ ESET_USERNAME: "u", ESET_PASSWORD: "pw-value", ESET_API_URL: "http://127.0.0.1:8080", AUTH_MODE: "none" }))?.apiUrl
        .port,
    ).toBe("8080");
  });
  it("reads the trust settings: token backoff, JWT max age, metrics exposure, refusing weak values without echoing them", () => {
    const config = loadConfig({ AUTH_JWT_SECRET: "x".repeat(32), AUTH_JWT_ISSUER: "https://i/", AUTH_JWT_AUDIENCE: "api://u" });
    expect(config.tokenBackoff).toEqual({ baseMs: 1_000, maxMs: 300_000, maxTransientMs: 4_000 });
    expect(config.auth.jwt?.maxAgeSec).toBe(86_400);
    expect(config.metrics).toEqual({ port: undefined, host: "127.0.0.1", token: undefined, operationNames: undefined });
    expect(loadConfig({ METRICS_PORT: "9464", METRICS_OPERATION_NAMES: "Dashboard, Person" }).metrics).toMatchObject({
      port: 9464,
      operationNames: ["Dashboard", "Person"],
    });
    let error: unknown;
    try {
      loadConfig({
        METRICS_TOKEN: "short-secret",
        METRICS_OPERATION_NAMES: "ok,not a name",
        AUTH_JWT_SECRET: "x".repeat(32),
        AUTH_JWT_ISSUER: "i",
        AUTH_JWT_AUDIENCE: "a",
        AUTH_JWT_MAX_AGE_SECONDS: "5",
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join("\n");
    expect(problems).toContain("METRICS_TOKEN must be at least 16 characters");
    expect(problems).toContain("METRICS_OPERATION_NAMES must list GraphQL operation names");
    expect(problems).toContain("AUTH_JWT_MAX_AGE_SECONDS must be a whole number from 60");
    expect(problems).not.toContain("short-secret");
  });
});
