import { BothUsersDocument, DefenderUsersDocument, EsetUserDocument } from "../__generated__/operations";
import { DEMO } from "../../src/simulator/demo-data";
import { startStack, type Stack } from "../helpers/stack";

// The first test of a fresh worker also compiles and starts the whole gateway: under a loaded 2-core CI
// machine that alone has taken most of jest's default 20 s. Nothing here is about how long it takes.
jest.setTimeout(60_000);

describe("token flows", () => {
  let stack: Stack;
  afterEach(() => stack?.close());

  it("makes one token request per source for 50 concurrent first queries", async () => {
    stack = await startStack();
    stack.sim.latencyMs = 10;
    const ids = [...stack.sim.defenderUsers.keys()];
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => stack.gql(BothUsersDocument, { id: ids[i % ids.length]!, uuid: DEMO.esetAlice })),
    );
    expect(results.every((r) => r.body.errors === undefined)).toBe(true);
    expect(stack.sim.count({ source: "DEFENDER", kind: "token" })).toBe(1);
    expect(stack.sim.count({ source: "ESET", kind: "token" })).toBe(1);
  });

  it("asks Entra for a client-credentials token with the configured scope", async () => {
    stack = await startStack({ DEFENDER_SCOPE: "https://api.securitycenter.microsoft.com/.default" });
    await stack.gql(DefenderUsersDocument, { ids: [DEMO.defenderUser1] });
    const [form] = stack.sim.tokenRequests("DEFENDER");
    expect(form?.get("grant_type")).toBe("client_credentials");
    expect(form?.get("scope")).toBe("https://api.securitycenter.microsoft.com/.default");
    const api = stack.sim.requests.find((r) => r.kind === "api");
    expect(api?.headers.authorization).toMatch(/^Bearer sim-defender-/);
  });

  it("renews a token shortly before it expires instead of sending an expired one", async () => {
    stack = await startStack({}, { tokenTtlSec: 1 });
    await stack.gql(DefenderUsersDocument, { ids: [DEMO.defenderUser1] });
    await new Promise((r) => setTimeout(r, 1000));
    const res = await stack.gql(DefenderUsersDocument, { ids: [DEMO.defenderAlice] });
    expect(res.body.errors).toBeUndefined();
    expect(stack.sim.count({ source: "DEFENDER", kind: "token" })).toBe(2);
    // No call went out with the expired token.
    expect(stack.sim.requests.filter((r) => r.kind === "api").map((r) => r.status)).toEqual([200, 200]);
  });

  /**
   * Long enough after a query that its 1 s token is past use (the gateway uses one until a fiftieth of its
   * lifetime before expiry), so the next query waits for the renewal. (950 ms landed in the early-renewal
   * window instead: a query there may go on with the old token, and on a loaded machine the renewal, and
   * with it the grant the test looks for, could then land after the answer, or after the next query.)
   */
  const pastTokenUse = () => new Promise((r) => setTimeout(r, 1_100));

  it("uses ESET's password grant first, then the rotating refresh_token grant", async () => {
    stack = await startStack({}, { tokenTtlSec: 1 });
    for (let i = 0; i < 3; i++) {
      const res = await stack.gql(EsetUserDocument, { uuid: DEMO.esetAlice });
      expect(res.body.data?.esetUser?.uuid).toBe(DEMO.esetAlice);
      if (i < 2) await pastTokenUse();
    }
    const grants = stack.sim.tokenRequests("ESET").map((f) => f.get("grant_type"));
    expect(grants).toEqual(["password", "refresh_token", "refresh_token"]);
    // Each refresh presents the newest refresh token: the simulator accepts each only once.
    const presented = stack.sim
      .tokenRequests("ESET")
      .slice(1)
      .map((f) => f.get("refresh_token"));
    expect(new Set(presented).size).toBe(2);
  });

  it("falls back to ESET's password grant when the refresh token is refused", async () => {
    stack = await startStack({}, { tokenTtlSec: 1 });
    await stack.gql(EsetUserDocument, { uuid: DEMO.esetAlice });
    stack.sim.revokeRefreshTokens();
    await pastTokenUse();
    const res = await stack.gql(EsetUserDocument, { uuid: DEMO.esetAlice });
    expect(res.body.errors).toBeUndefined();
    const tokenCalls = stack.sim.requests.filter((r) => r.kind === "token" && r.source === "ESET");
    expect(tokenCalls.map((r) => [new URLSearchParams(r.body).get("grant_type"), r.status])).toEqual([
      ["password", 200],
      ["refresh_token", 400],
      ["password", 200],
    ]);
    expect(stack.logs.entries().some((e) => String(e.msg).includes("falling back to the password grant"))).toBe(true);
  });

  it("recovers from a token revoked mid-run with one refresh shared by concurrent calls", async () => {
    stack = await startStack();
    await stack.gql(DefenderUsersDocument, { ids: [DEMO.defenderUser1] });
    stack.sim.revokeTokens();
    const ids = [...stack.sim.defenderUsers.keys()].slice(0, 10);
    const res = await stack.gql(DefenderUsersDocument, { ids });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data?.defenderUsers?.map((u) => u?.id)).toEqual(ids);
    expect(stack.sim.count({ source: "DEFENDER", kind: "token" })).toBe(2);
  });
});
