import { ConfigError, loadConfig } from "../../src/config";
import { startStack, type Stack } from "../helpers/stack";

/**
 * Who may name the client in X-Forwarded-For (TRUST_PROXY). A hop count believes whoever connects: a
 * client that reaches the port directly rotates X-Forwarded-For and is never throttled for failed logins.
 * So a hop count is refused at start-up unless TRUST_PROXY_PORT_PRIVATE=1 says only the proxies reach the
 * port, and proxy addresses are the way to say who the proxies are.
 */
function problemsOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return "";
}

describe("TRUST_PROXY at start-up", () => {
  it("refuses a hop count, saying why and what to set instead", () => {
    const message = problemsOf({ TRUST_PROXY: "1" });
    expect(message).toContain("TRUST_PROXY=1 is a hop count");
    expect(message).toContain("a client that reaches the port directly names any address");
    expect(message).toContain("TRUST_PROXY_PORT_PRIVATE=1");
  });

  it("takes a hop count when TRUST_PROXY_PORT_PRIVATE=1 says only the proxies reach the port", () => {
    expect(loadConfig({ TRUST_PROXY: "2", TRUST_PROXY_PORT_PRIVATE: "1" }).trustProxy).toBe(2);
  });

  it("takes proxy addresses and CIDRs, IPv4 and IPv6, without TRUST_PROXY_PORT_PRIVATE", () => {
    expect(loadConfig({ TRUST_PROXY: "10.0.0.0/8, 192.168.1.5,fd00::/8,::1" }).trustProxy).toEqual([
      "10.0.0.0/8",
      "192.168.1.5",
      "fd00::/8",
      "::1",
    ]);
  });

  it.each(["true", "*", "abc", "10.0.0.0/33", "fd00::/129", "10.0.0.1/8/8", "999.1.1.1", "11"])("refuses TRUST_PROXY=%s", (value) => {
    expect(problemsOf({ TRUST_PROXY: value, TRUST_PROXY_PORT_PRIVATE: "1" })).toContain("TRUST_PROXY must be");
  });
});

describe("a client that reaches the port directly, with the proxies named by address", () => {
  let stack: Stack;
  beforeAll(async () => {
    // The proxies are 10.0.0.0/8; this test's client connects from 127.0.0.1, past them.
    stack = await startStack({
      AUTH_MODE: "",
      AUTH_API_KEYS: "trust-proxy-suite-key-7f3a9c",
      AUTH_FAILURE_LIMIT: "3/60s",
      TRUST_PROXY: "10.0.0.0/8",
    });
  });
  afterAll(() => stack.close());

  it("is throttled by its own address however it rotates X-Forwarded-For", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await stack.post('{"query":"{ __typename }"}', {
        "x-api-key": `a-guessed-key-number-${i}-long-enough`,
        "x-forwarded-for": `203.0.113.${i + 1}`,
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429]);
  });
});
