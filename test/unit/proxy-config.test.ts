import { inspect } from "node:util";
import { ConfigError, loadConfig } from "../../src/config";

/** Real credentials, so the proxy settings are read (demo mode ignores them). */
const ESET = { ESET_USERNAME: "u", ESET_PASSWORD: "pw-value", AUTH_MODE: "none" };
const proxyOf = (env: Record<string, string>) => loadConfig({ ...ESET, ...env }).outboundProxy;

describe("outbound proxy settings", () => {
  it("connects directly when no proxy variable is set, or only NO_PROXY", () => {
    expect(proxyOf({})).toBeUndefined();
    expect(proxyOf({ NO_PROXY: "example.com" })).toBeUndefined();
    expect(proxyOf({ HTTP_PROXY: "  " })).toBeUndefined();
  });

  it("uses HTTP_PROXY for https vendors too when HTTPS_PROXY is unset, as undici does", () => {
    const proxy = proxyOf({ HTTP_PROXY: "http://proxy.example.com:3128", NO_PROXY: ".internal.example,10.1.2.3" });
    expect(proxy?.http?.href).toBe("http://proxy.example.com:3128/");
    expect(proxy?.https?.href).toBe("http://proxy.example.com:3128/");
    expect(proxy?.noProxy).toBe(".internal.example,10.1.2.3");
    const split = proxyOf({ HTTP_PROXY: "http://plain.example:8080", HTTPS_PROXY: "https://secure.example:8443" });
    expect(split?.http?.display).toBe("http://plain.example:8080");
    expect(split?.https?.display).toBe("https://secure.example:8443");
    expect(proxyOf({ HTTPS_PROXY: "http://secure.example:3128" })?.http).toBeUndefined();
  });

  it("prefers the lower-case variable when it is set, even empty", () => {
    expect(proxyOf({ https_proxy: "http://lower.example:1", HTTPS_PROXY: "http://upper.example:2" })?.https?.display).toBe(
      "http://lower.example:1",
    );
    expect(proxyOf({ https_proxy: "", HTTPS_PROXY: "http://upper.example:2" })).toBeUndefined();
    expect(proxyOf({ HTTP_PROXY: "http://p.example:1", no_proxy: "", NO_PROXY: "*" })?.noProxy).toBe("");
    expect(proxyOf({ HTTP_PROXY: "http://p.example:1", NO_PROXY: "*" })?.noProxy).toBe("*");
  });

  it("refuses a proxy that is not an http(s) URL, naming the variable and never its value", () => {
    for (const value of ["proxy.example.com:3128", "socks5://user:hunter22@proxy.example.com:1080", "http://", "user:hunter22@proxy"]) {
      let error: unknown;
      try {
        loadConfig({ ...ESET, https_proxy: value });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toMatch(/https_proxy must be an http:\/\/ or https:\/\/ proxy URL/);
      expect((error as ConfigError).message).not.toContain("hunter22");
    }
  });

  it("keeps the proxy's password out of every printed form of the configuration", () => {
    const config = loadConfig({ ...ESET, HTTPS_PROXY: "http://egress%5Cuser:hunter2%40x@proxy.example.com:3128" });
    const proxy = config.outboundProxy!.https!;
    expect(proxy.href).toBe("http://egress%5Cuser:hunter2%40x@proxy.example.com:3128/");
    expect(proxy.display).toBe("http://proxy.example.com:3128");
    const printed = [JSON.stringify(config), inspect(config, { depth: 10 }), String(proxy), `${proxy}`].join("\n");
    for (const secret of proxy.secrets) expect(printed).not.toContain(secret);
    expect(proxy.secrets).toEqual(expect.arrayContaining(["hunter2@x", Buffer.from("egress\\user:hunter2@x").toString("base64")]));
    expect(printed).toContain("http://proxy.example.com:3128");
  });

  it("ignores the proxy in demo mode: the simulator runs in the same process on loopback", () => {
    expect(loadConfig({ HTTP_PROXY: "http://proxy.example.com:3128" }).outboundProxy).toBeUndefined();
    expect(loadConfig({ DEMO: "1", ...ESET, HTTP_PROXY: "http://proxy.example.com:3128" }).outboundProxy).toBeUndefined();
  });
});
