import { BothUsersDocument, DefenderUserDocument, EsetUserDocument, EsetUsersDocument } from "../__generated__/operations";
import { DEMO } from "../../src/simulator/demo-data";
import { SIMULATOR_CREDENTIALS } from "../../src/simulator/simulator";
import { startStack, type Stack } from "../helpers/stack";

/**
 * Drives usergraph through successes and every kind of failure at debug log level, then looks for any
 * configured secret or any token the vendors issued in every log line and every response.
 */
describe("secret hygiene", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ LOG_LEVEL: "trace" }, { tokenTtlSec: 1 });
  });
  afterAll(() => stack.close());

  it("never shows a secret, password or token in a response or a log line", async () => {
    const { sim } = stack;
    await stack.gql(BothUsersDocument, { id: DEMO.defenderAlice, uuid: DEMO.esetAlice });
    sim.revokeTokens();
    await stack.gql(BothUsersDocument, { id: DEMO.defenderAlice, uuid: DEMO.esetAlice });
    await new Promise((r) => setTimeout(r, 950)); // the refresh_token grant runs next
    for (const status of [400, 401, 403, 429, 500, 501, 503, 504]) {
      sim.inject({ target: "defender", kind: "status", status, times: 3 });
      sim.inject({ target: "eset", kind: "status", status, times: 3 });
      await stack.gql(BothUsersDocument, { id: DEMO.defenderAlice, uuid: DEMO.esetAlice });
    }
    sim.inject({ target: "eset-token", kind: "status", status: 500, times: 5 });
    sim.revokeTokens();
    await stack.gql(EsetUserDocument, { uuid: DEMO.esetAlice });
    sim.inject({ target: "defender", kind: "bad-json" });
    sim.inject({ target: "eset", kind: "reset", times: 3 });
    await stack.gql(BothUsersDocument, { id: DEMO.defenderAlice, uuid: DEMO.esetAlice });
    sim.inject({ target: "eset", kind: "pending", polls: 2 });
    await stack.gql(EsetUsersDocument, { uuids: [DEMO.esetAlice, DEMO.esetBob] });
    await stack.gql(DefenderUserDocument, { id: "bad\u0001id" });

    const secrets = [SIMULATOR_CREDENTIALS.clientSecret, SIMULATOR_CREDENTIALS.esetPassword, ...sim.issuedTokens];
    expect(sim.issuedTokens.length).toBeGreaterThanOrEqual(5);
    expect(sim.tokenRequests("ESET").some((f) => f.get("grant_type") === "refresh_token")).toBe(true);
    // The checks below are only meaningful if there is plenty to look at.
    expect(stack.logs.lines.length).toBeGreaterThan(50);
    expect(stack.responses.length).toBeGreaterThan(10);
    const haystack = [...stack.logs.lines, ...stack.responses].join("\n");
    const leaked = secrets.filter((s) => haystack.includes(s));
    expect(leaked).toEqual([]);
  });

  it("redacts a secret that reaches a log line through a library's error message", async () => {
    // A token of its own, whichever test ran before.
    await stack.gql(DefenderUserDocument, { id: DEMO.defenderAlice });
    const token = stack.sim.issuedTokens.at(-1)!;
    stack.gateway.log.error({ err: new Error(`request failed: client_secret=${SIMULATOR_CREDENTIALS.clientSecret}`) }, "oops");
    stack.gateway.log.info({ options: { headers: { authorization: `Bearer ${token}` } } }, "echo");
    await new Promise((r) => setTimeout(r, 300)); // logs are flushed every 250 ms
    const last = stack.logs.lines.filter((l) => /"msg":"(oops|echo)"/.test(l));
    expect(last).toHaveLength(2);
    expect(last.join("\n")).toContain("[REDACTED]");
    expect(last.join("\n")).not.toContain(SIMULATOR_CREDENTIALS.clientSecret);
    expect(last.join("\n")).not.toContain(token);
  });
});
