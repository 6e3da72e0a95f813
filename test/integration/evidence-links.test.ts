import { DEMO } from "../../src/simulator/demo-data";
import { startStack, type Stack } from "../helpers/stack";

/**
 * Links from evidence everywhere (issue 19): while alerts read with evidence are fresh (a listing for
 * defenderUsersAtRisk or DefenderUser.alerts, or one user's alerts), esetLinks, defenderLinks and person use
 * their User evidence whatever else the query selects, and a reason appears once in matchedOn.
 */

const DAY = 86_400_000;
const daysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString();

interface Reason {
  rule: string;
  esetField: string;
  esetValue: string;
  defenderValue: string;
}
const REASONS = `matchedOn { rule esetField esetValue defenderValue }`;

let cached: Stack;
beforeAll(async () => {
  cached = await startStack({ CACHE_TTL_SECONDS: "60" });
});
afterAll(() => cached.close());
beforeEach(() => cached.sim.reset());

async function post<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await cached.post(JSON.stringify({ query, variables }));
  expect(res.body.errors).toBeUndefined();
  return res.body.data as T;
}

const esetLinksOfDmiller = (beside = "") =>
  post<{ defenderUser: { esetLinks: Array<{ esetUser: { uuid: string }; matchedOn: Reason[] }> } }>(
    `query${beside === "" ? "" : "($since: DateTime)"} { defenderUser(id: ${JSON.stringify(DEMO.defenderDmiller)}) { ${beside} esetLinks { esetUser { uuid } ${REASONS} } } }`,
    beside === "" ? {} : { since: daysAgo(7) },
  );

describe("links from evidence, whatever else the query selects", () => {
  it("lists each reason once: the address that is an identity and the primary address too is one ALERT_EVIDENCE", async () => {
    const data = await esetLinksOfDmiller("alerts(since: $since) { evidence { entityType } }");
    const dave = data.defenderUser.esetLinks.find((l) => l.esetUser.uuid === DEMO.esetDave)!;
    const keys = dave.matchedOn.map((r) => `${r.rule} ${r.esetValue.toLowerCase()} ${r.defenderValue.toLowerCase()}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(dave.matchedOn.filter((r) => r.rule === "ALERT_EVIDENCE")).toHaveLength(1);
  });

  it("esetLinks, defenderLinks and person use a fresh listing's evidence without selecting alerts", async () => {
    // A dashboard's listing of the window (with evidence), in another request.
    await post(`query($since: DateTime!) { defenderUsersAtRisk(since: $since, first: 1) { totalCount } }`, { since: daysAgo(7) });
    const beside = await esetLinksOfDmiller("alerts(since: $since) { evidence { entityType } }");
    const alone = await esetLinksOfDmiller();
    expect(alone.defenderUser.esetLinks).toEqual(beside.defenderUser.esetLinks);
    expect(alone.defenderUser.esetLinks.flatMap((l) => l.matchedOn.map((r) => r.rule))).toContain("ALERT_EVIDENCE");

    const eset = await post<{ esetUser: { defenderLinks: Array<{ defenderUser: { id: string }; matchedOn: Reason[] }> } }>(
      `{ esetUser(uuid: "${DEMO.esetDave}") { defenderLinks { defenderUser { id } ${REASONS} } } }`,
    );
    const dmiller = eset.esetUser.defenderLinks.find((l) => l.defenderUser.id.toLowerCase() === DEMO.defenderDmiller.toLowerCase())!;
    expect(dmiller.matchedOn.map((r) => r.rule)).toContain("ALERT_EVIDENCE");

    const person = await post<{ person: { links: Array<{ matchedOn: Reason[] }> } }>(
      `{ person(ref: "dave.miller@northwind.example") { links { ${REASONS} } } }`,
    );
    expect(person.person.links.flatMap((l) => l.matchedOn.map((r) => r.rule))).toContain("ALERT_EVIDENCE");
  });
});
