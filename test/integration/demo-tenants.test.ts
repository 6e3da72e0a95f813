import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import { demoExampleVariables } from "../../src/demo";
import { startGateway, type Gateway } from "../../src/gateway";
import { DEMO } from "../../src/simulator/demo-data";
import type { Simulator } from "../../src/simulator/simulator";
import { WOODGROVE } from "../../src/simulator/woodgrove-data";
import { LogCapture } from "../helpers/log-capture";

/**
 * The demo shows tenancy (docs/tenants.md, "Trying it in the demo"): `npm start` with no credentials
 * serves two customers, Contoso (`default`, the README's data) and Woodgrove Bank (`woodgrove`), each on a
 * simulator of its own. Checked from the outside, over HTTP: the explorer's BothTenants tab answers both
 * customers' data; root fields answer Contoso's only, with no call at Woodgrove's simulator; and the
 * demo's rule for a caller that names no tenant goes no further than such a caller.
 */

const KEY = "demo-tenants-key-5b8e1f3a9c2d7e40";
const operation = readFileSync(join(__dirname, "..", "..", "schema", "operations", "both-tenants.graphql"), "utf8");
/** Words only Woodgrove's data holds: none may appear in an answer about Contoso. */
const WOODGROVE_WORDS = /woodgrove|Hana Lee|Marco Rossi|Priya Natarajan|Sam Okafor|hlee|mrossi|3f9a0c1e/i;

type Body = { data?: Record<string, any> | null; errors?: Array<{ message: string; extensions?: { code?: string } }> };

async function demo(env: Record<string, string> = {}): Promise<Gateway> {
  return startGateway(loadConfig({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn", ...env }), { logDestination: new LogCapture() });
}

async function ask(gateway: Gateway, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const res = await fetch(gateway.url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as Body };
}

const simulatorOf = (gateway: Gateway, tenant: string): Simulator => gateway.demoSimulators!.get(tenant)!;
const codes = (body: Body) => (body.errors ?? []).map((e) => e.extensions?.code);

describe("the demo's two tenants, for the anonymous caller", () => {
  let gateway: Gateway;
  beforeAll(async () => {
    gateway = await demo();
  });
  afterAll(() => gateway.stop());
  beforeEach(() => {
    for (const sim of gateway.demoSimulators!.values()) sim.reset();
  });

  it("serves two tenants, each on its own simulator with its own credentials", () => {
    expect(gateway.config.demo).toBe(true);
    expect(gateway.clients.tenants.ids).toEqual(["default", "woodgrove"]);
    const contoso = simulatorOf(gateway, "default");
    const woodgrove = simulatorOf(gateway, "woodgrove");
    expect(gateway.simulator).toBe(contoso);
    expect(woodgrove.url).not.toBe(contoso.url);
    expect(woodgrove.credentials.tenantId).not.toBe(contoso.credentials.tenantId);
    expect(woodgrove.credentials.esetUsername).not.toBe(contoso.credentials.esetUsername);
  });

  it("answers the explorer's BothTenants tab with each customer's own data", async () => {
    const { status, body } = await ask(gateway, operation, demoExampleVariables());
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const { tenants, customerA, customerB } = body.data!;
    expect(tenants).toEqual([
      { id: "default", name: "Contoso" },
      { id: "woodgrove", name: "Woodgrove Bank" },
    ]);
    expect(customerA.id).toBe("default");
    expect(customerB).toMatchObject({ id: "woodgrove", name: "Woodgrove Bank" });
    const names = (c: any) => c.esetUserList.edges.map((e: any) => e.node.displayName as string);
    const machines = (c: any) => c.defenderMachines.edges.map((e: any) => e.node.computerDnsName as string);
    const atRisk = (c: any) => c.peopleAtRisk.edges.map((e: any) => e.node.defender.id as string);
    // Woodgrove: its four ESET users, its machines, its people at risk; nothing of Contoso's.
    expect(customerB.esetUserList.totalCount).toBe(4);
    expect(names(customerB).sort()).toEqual(["Hana Lee", "Marco Rossi", "Priya Natarajan", "Sam Okafor"]);
    expect(machines(customerB).every((m: string) => m.endsWith(".woodgrovebank.com"))).toBe(true);
    expect(machines(customerB)[0]).toBe("wg-lt-hlee.woodgrovebank.com");
    expect(atRisk(customerB)).toEqual(expect.arrayContaining([WOODGROVE.defenderHana, WOODGROVE.defenderMarco]));
    expect(JSON.stringify(customerB)).not.toMatch(/contoso|fabrikam|Alice/i);
    // Contoso: the README's data, and no word of Woodgrove's.
    expect(customerA.esetUserList.totalCount).toBeGreaterThan(30);
    expect(atRisk(customerA)).toContain(DEMO.defenderAlice);
    expect(JSON.stringify(customerA)).not.toMatch(WOODGROVE_WORDS);
    // Each tenant's questions went to its own simulator.
    expect(simulatorOf(gateway, "woodgrove").count({ kind: "api" })).toBeGreaterThan(0);
    expect(simulatorOf(gateway, "default").count({ kind: "api" })).toBeGreaterThan(0);
  });

  it("never answers a root field with the second tenant's data, and never asks its simulator", async () => {
    const since = new Date(Date.now() - 30 * 86_400_000).toISOString();
    // Woodgrove's listings, entities and alert windows kept first (its fleet once came back under Contoso's root fields).
    const warm = await ask(
      gateway,
      `query ($since: DateTime!) { w: tenant(id: "woodgrove") {
        esetUserList(first: 100) { totalCount } defenderMachines(first: 100, orderBy: { field: RISK_SCORE }) { totalCount }
        defenderAlerts(first: 100, filter: { createdSince: $since }) { totalCount } peopleAtRisk(since: $since) { totalCount }
        defenderUsersAtRisk(since: $since) { totalCount } defenderMachine(id: "${WOODGROVE.machineHanaLaptop}") { id }
      } }`,
      { since },
    );
    expect(warm.body.errors).toBeUndefined();
    expect(warm.body.data!.w.defenderMachine).toEqual({ id: WOODGROVE.machineHanaLaptop });
    for (const sim of gateway.demoSimulators!.values()) sim.reset();
    const root = await ask(
      gateway,
      `query ($since: DateTime!) {
        esetUserList(first: 100) { totalCount edges { node { displayName primaryEmailAddress } } }
        defenderMachines(first: 100) { edges { node { id computerDnsName } } }
        defenderAlerts(first: 100) { edges { node { id title } } }
        peopleAtRisk(since: $since, first: 50) { edges { node { defender { id } esetUsers { displayName } } } }
        hana: defenderUser(id: "${WOODGROVE.defenderHana.replace("\\", "\\\\")}") { id }
        hanaEset: esetUser(uuid: "${WOODGROVE.esetHana}") { uuid }
        sam: person(ref: "sam.okafor@woodgrovebank.com") { esetUsers { uuid } }
        laptop: defenderMachine(id: "${WOODGROVE.machineHanaLaptop}") { id }
      }`,
      { since },
    );
    expect(root.status).toBe(200);
    expect(root.body.errors).toBeUndefined();
    expect(root.body.data!.esetUserList.edges.length).toBeGreaterThan(30);
    expect(root.body.data!.defenderAlerts.edges.length).toBeGreaterThan(5);
    expect(root.body.data!.hana).toBeNull();
    expect(root.body.data!.hanaEset).toBeNull();
    expect(root.body.data!.sam).toBeNull();
    expect(root.body.data!.laptop).toBeNull();
    expect(root.text).not.toMatch(WOODGROVE_WORDS);
    expect(simulatorOf(gateway, "woodgrove").requests).toEqual([]);
  });

  it("answers the README's first query on the first tenant, unchanged", async () => {
    const { body } = await ask(
      gateway,
      `{ defenderUser(id: "contoso\\\\alice") { id logonTypes } esetUser(uuid: "${DEMO.esetAlice}") { displayName } }`,
    );
    expect(body).toEqual({
      data: {
        defenderUser: { id: DEMO.defenderAlice, logonTypes: ["Network", "RemoteInteractive"] },
        esetUser: { displayName: "Alice Example" },
      },
    });
    expect(simulatorOf(gateway, "woodgrove").requests).toEqual([]);
  });

  it("answers an unknown tenant with FORBIDDEN, asking neither simulator", async () => {
    const { body } = await ask(gateway, `{ t: tenant(id: "northwind") { name esetUserList(first: 1) { totalCount } } }`);
    expect(body.data).toEqual({ t: null });
    expect(codes(body)).toEqual(["FORBIDDEN"]);
    for (const sim of gateway.demoSimulators!.values()) expect(sim.requests).toEqual([]);
  });
});

describe("the demo's two tenants, with API keys", () => {
  let gateway: Gateway;
  beforeAll(async () => {
    gateway = await demo({ AUTH_API_KEYS: `${KEY},${KEY}-woodgrove@woodgrove,${KEY}-both@default+woodgrove` });
  });
  afterAll(() => gateway.stop());
  beforeEach(() => {
    for (const sim of gateway.demoSimulators!.values()) sim.reset();
  });
  const list = "{ tenants { id } esetUserList(first: 100) { totalCount edges { node { displayName } } } }";

  it("lets a key that names no tenant work as the anonymous caller does (the README's keyed demo)", async () => {
    const { body } = await ask(gateway, list, {}, { "x-api-key": KEY });
    expect(body.errors).toBeUndefined();
    expect(body.data!.tenants).toEqual([{ id: "default" }, { id: "woodgrove" }]);
    expect(body.data!.esetUserList.totalCount).toBeGreaterThan(30);
    expect(JSON.stringify(body.data!.esetUserList)).toContain("Alice Example");
    expect(JSON.stringify(body.data!.esetUserList)).not.toMatch(WOODGROVE_WORDS);
    expect(simulatorOf(gateway, "woodgrove").requests).toEqual([]);
  });

  it("answers root fields for the one tenant a key names, and nothing of the other", async () => {
    const { body, text } = await ask(gateway, list, {}, { "x-api-key": `${KEY}-woodgrove` });
    expect(body.errors).toBeUndefined();
    expect(body.data!.tenants).toEqual([{ id: "woodgrove" }]);
    expect(body.data!.esetUserList.totalCount).toBe(4);
    expect(text).not.toMatch(/Alice|contoso/i);
    expect(simulatorOf(gateway, "default").count({ kind: "api" })).toBe(0);
    const other = await ask(gateway, `{ c: tenant(id: "default") { name } }`, {}, { "x-api-key": `${KEY}-woodgrove` });
    expect(other.body.data).toEqual({ c: null });
    expect(codes(other.body)).toEqual(["FORBIDDEN"]);
  });

  it("keeps the contract for a key naming both: TENANT_REQUIRED on root fields, tenant(id:) answers", async () => {
    const root = await ask(gateway, "{ esetUserList(first: 1) { totalCount } }", {}, { "x-api-key": `${KEY}-both` });
    expect(root.body.data).toEqual({ esetUserList: null });
    expect(codes(root.body)).toEqual(["TENANT_REQUIRED"]);
    for (const sim of gateway.demoSimulators!.values()) expect(sim.count({ kind: "api" })).toBe(0);
    const { body } = await ask(gateway, operation, demoExampleVariables(), { "x-api-key": `${KEY}-both` });
    expect(body.errors).toBeUndefined();
    expect(body.data!.customerB.esetUserList.totalCount).toBe(4);
    expect(body.data!.customerA.esetUserList.totalCount).toBeGreaterThan(30);
  });
});
