import { inspect } from "node:util";
import { BothUsersDocument, DefenderUsersDocument } from "../__generated__/operations";
import { DEMO } from "../../src/simulator/demo-data";
import { startForwardProxy, type ForwardProxy } from "../helpers/forward-proxy";
import { startStack, type Stack } from "../helpers/stack";

/**
 * Corporate networks reach Microsoft and ESET only through an egress proxy. Every vendor call, token
 * endpoints included, goes through HTTP_PROXY / HTTPS_PROXY unless NO_PROXY names the host. The simulator
 * is plain http on loopback, so HTTP_PROXY is the one that applies to it here.
 */
const both = { id: DEMO.defenderAlice, uuid: DEMO.esetAlice };

describe("outbound proxy", () => {
  let stack: Stack | undefined;
  let proxy: ForwardProxy | undefined;
  afterEach(async () => {
    await stack?.close();
    await proxy?.close();
    stack = undefined;
    proxy = undefined;
  });

  it("sends every vendor call, token requests included, through HTTP_PROXY, keeping its tunnels alive", async () => {
    proxy = await startForwardProxy();
    stack = await startStack({ HTTP_PROXY: proxy.url });
    for (let i = 0; i < 3; i++) expect((await stack.gql(BothUsersDocument, both)).body.errors).toBeUndefined();
    const ids = [...stack.sim.defenderUsers.keys()].slice(0, 10);
    expect((await stack.gql(DefenderUsersDocument, { ids })).body.errors).toBeUndefined();

    const simulator = new URL(stack.sim.url).host;
    // Before: nothing read HTTP_PROXY and the proxy saw no request at all.
    expect(proxy.requests.length).toBe(stack.sim.requests.length);
    expect(proxy.requests.every((r) => r.target === simulator)).toBe(true);
    const carried = proxy.requests.map((r) => `${r.method} ${r.path}`).sort();
    expect(carried).toEqual(stack.sim.requests.map((r) => `${r.method} ${r.path}`).sort());
    expect(stack.sim.count({ kind: "token", source: "DEFENDER" })).toBe(1);
    expect(stack.sim.count({ kind: "token", source: "ESET" })).toBe(1);
    expect(proxy.requests.filter((r) => r.path.includes("/token")).length).toBe(2);
    expect(proxy.requests.filter((r) => r.path.startsWith("/api/")).length).toBeGreaterThan(10);
    // Keep-alive holds through the proxy: the same ten lookups again reuse the tunnels already open.
    const tunnels = proxy.tunnels.length;
    expect((await stack.gql(DefenderUsersDocument, { ids })).body.errors).toBeUndefined();
    expect(proxy.tunnels.length).toBe(tunnels);
    expect(proxy.requests.length).toBe(stack.sim.requests.length);
    expect(stack.logs.entries("vendor calls go through the outbound proxy, except to the hosts NO_PROXY names")[0]).toMatchObject({
      httpProxy: proxy.url,
      httpsProxy: proxy.url,
    });
  });

  it("keeps UPSTREAM_CONNECTIONS as the limit of tunnels per vendor host", async () => {
    proxy = await startForwardProxy();
    stack = await startStack({ HTTP_PROXY: proxy.url, UPSTREAM_CONNECTIONS: "2" });
    stack.sim.latencyMs = 20;
    const ids = [...stack.sim.defenderUsers.keys()].slice(0, 12);
    expect((await stack.gql(DefenderUsersDocument, { ids })).body.errors).toBeUndefined();
    expect(proxy.requests.length).toBe(13);
    expect(proxy.tunnels.length).toBeLessThanOrEqual(2);
  });

  it("reaches the hosts NO_PROXY names directly, matching the port when one is given", async () => {
    proxy = await startForwardProxy();
    const probe = async (env: Record<string, string>): Promise<number> => {
      const before = proxy!.requests.length;
      stack = await startStack({ HTTP_PROXY: proxy!.url, ...env });
      expect((await stack.gql(BothUsersDocument, both)).body.errors).toBeUndefined();
      await stack.close();
      stack = undefined;
      return proxy!.requests.length - before;
    };
    expect(await probe({ NO_PROXY: "127.0.0.1" })).toBe(0);
    expect(await probe({ NO_PROXY: "example.com, .internal.example, 127.0.0.1" })).toBe(0);
    // A port that is not the simulator's: still through the proxy (4 calls: two tokens, two users).
    expect(await probe({ NO_PROXY: "127.0.0.1:1" })).toBe(4);
    // The lower-case variable wins when set, even empty, as in undici: no_proxy="" leaves nothing out.
    expect(await probe({ no_proxy: "", NO_PROXY: "127.0.0.1" })).toBe(4);
    // HTTPS_PROXY alone is for https:// vendors only; the http:// simulator is reached directly.
    expect(await probe({ HTTP_PROXY: "", HTTPS_PROXY: proxy.url })).toBe(0);
  });

  it("authenticates to the proxy with the URL's credentials and never logs or returns them", async () => {
    proxy = await startForwardProxy({ credentials: "egress-user:s3cret p@ss" });
    const url = new URL(proxy.url);
    url.username = "egress-user";
    url.password = "s3cret p@ss";
    stack = await startStack({ HTTPS_PROXY: url.href, HTTP_PROXY: url.href });
    expect((await stack.gql(BothUsersDocument, both)).body.errors).toBeUndefined();
    expect(proxy.requests.length).toBe(4);
    expect(proxy.tunnels.every((t) => t.authorization === `Basic ${Buffer.from("egress-user:s3cret p@ss").toString("base64")}`)).toBe(true);
    const dump = [stack.logs.text(), JSON.stringify(stack.gateway.config), inspect(stack.gateway.config, { depth: 5 })].join("\n");
    for (const secret of ["s3cret", "p%40ss", Buffer.from("egress-user:s3cret p@ss").toString("base64")])
      expect(dump).not.toContain(secret);
    expect(dump).toContain(proxy.url);
  });

  it("reports a proxy that refuses the tunnel (407) as the vendor being unreachable, naming the proxy in the log, without the credentials", async () => {
    proxy = await startForwardProxy({ credentials: "egress-user:right-password" });
    const url = new URL(proxy.url);
    url.username = "egress-user";
    url.password = "wrong-password";
    stack = await startStack({ HTTP_PROXY: url.href });
    const res = await stack.gql(BothUsersDocument, both);
    expect(res.body.errors?.map((e) => e.extensions?.code).sort()).toEqual(["UPSTREAM_UNREACHABLE", "UPSTREAM_UNREACHABLE"]);
    expect(stack.sim.requests).toHaveLength(0);
    expect(stack.logs.text()).toContain("the outbound proxy refused the tunnel (HTTP 407)");
    expect([stack.logs.text(), res.text].join("\n")).not.toContain("wrong-password");
  });
});
