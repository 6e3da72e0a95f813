import type { Config, TenantConfig } from "./config";
import { DEMO } from "./simulator/demo-data";
import type { Simulator, SimulatorDataset } from "./simulator/simulator";
import { sources } from "./sources";
import { DEFAULT_TENANT } from "./tenants-file";
import type { SourceName } from "./upstream/source";

/**
 * The demo's customers, each served by a simulator of its own (its own data and credentials). The first is
 * `default`, today's single tenant, so the README's root-field queries, cursors and cache keys are those of
 * a single-tenant deployment; the second shows tenancy (docs/tenants.md, "Trying it in the demo").
 */
export const DEMO_TENANTS: ReadonlyArray<{ id: string; name: string; dataset: SimulatorDataset }> = [
  { id: DEFAULT_TENANT, name: "Contoso", dataset: "demo" },
  { id: "woodgrove", name: "Woodgrove Bank", dataset: "woodgrove" },
];

/** Each source that has a side in the simulator, pointed at it with the credentials it accepts. */
function connectionsTo(simulator: Simulator): Record<SourceName, unknown> {
  const connections: Record<SourceName, unknown> = {};
  for (const source of sources()) if (source.demo) connections[source.name] = source.demo(simulator);
  return connections;
}

/** Points every source that has a side in the simulator at it, with the credentials it accepts. */
export function withSimulatorSources(config: Config, simulator: Simulator): Config {
  const entries = { ...config.sources };
  for (const [name, connection] of Object.entries(connectionsTo(simulator)))
    entries[name] = { settings: entries[name]?.settings, connection };
  return Object.freeze({ ...config, sources: entries });
}

/**
 * The demo's tenants (DEMO_TENANTS), each on its own simulator (in DEMO_TENANTS' order): the first's are
 * also the single-tenant connections (`sources`), as before tenants.
 */
export function withSimulatorTenants(config: Config, simulators: readonly Simulator[]): Config {
  const tenants: TenantConfig[] = DEMO_TENANTS.map((t, i) => ({ id: t.id, name: t.name, connections: connectionsTo(simulators[i]!) }));
  return Object.freeze({ ...withSimulatorSources(config, simulators[0]!), tenants });
}

/**
 * Values for the named operations' variables, so the explorer's ready tabs answer in demo mode as they are.
 * Keyed by variable name across every file: one name means one thing (a tab sends its file's values to
 * whichever of its operations runs), so a machine is `machineId` and an alert filter `alertFilter`.
 */
export function demoExampleVariables(now = Date.now()): Record<string, unknown> {
  return {
    id: DEMO.defenderAlice,
    ids: [DEMO.defenderAlice, DEMO.defenderUser1],
    uuid: DEMO.esetAlice,
    uuids: [DEMO.esetAlice, DEMO.esetBob],
    ref: "alice@contoso.com",
    filter: { protectionStatus: "UNPROTECTED" },
    first: 5,
    // The demo's alerts are days old (relative to the simulator's start): the last 7 days finds them.
    since: new Date(now - 7 * 86_400_000).toISOString(),
    machineId: "fs01",
    alertFilter: { severities: ["HIGH", "MEDIUM"] },
    // both-tenants.graphql: the demo's two customers (DEMO_TENANTS).
    customerA: DEMO_TENANTS[0]!.id,
    customerB: DEMO_TENANTS[1]!.id,
  };
}

export interface BannerPages {
  /** Apollo Sandbox at GET /graphql (GRAPHQL_SANDBOX). */
  sandbox: boolean;
  /** The offline GraphiQL at /explorer (GRAPHQL_EXPLORER). */
  explorer: boolean;
}

/** The browser pages that are really served, for the start-up banner; none is advertised when it is off. */
export function browserPages(graphqlUrl: string, pages: BannerPages): string[] {
  const lines: string[] = [];
  if (pages.explorer)
    lines.push(`  Explorer:         ${graphqlUrl.replace(/\/graphql$/, "/explorer")}   (GraphiQL served by usergraph; works offline)`);
  if (pages.sandbox) lines.push(`  Apollo Sandbox:   ${graphqlUrl}   (open in a browser; loads from Apollo's servers, needs internet)`);
  return lines;
}

/** What `npm start` prints in demo mode: where to go and what to try. */
export function demoBanner(graphqlUrl: string, simulatorUrl: string, pages: BannerPages): string {
  const esc = (s: string) => s.replace(/\\/g, "\\\\");
  return [
    "",
    "usergraph is running in DEMO mode: no vendor credentials are configured, so both sources",
    `point at the built-in simulator (${simulatorUrl}) and serve demo users.`,
    "",
    `  GraphQL endpoint: ${graphqlUrl}   (POST application/json)`,
    ...browserPages(graphqlUrl, pages),
    "",
    "Try:",
    `  { defenderUser(id: "${esc(DEMO.defenderAlice)}") { id logonTypes } esetUser(uuid: "${DEMO.esetAlice}") { displayName identities { providerType } } }`,
    `  { person(ref: "alice@contoso.com") { defenderUsers { id } esetUsers { displayName protectionStatus } links { strongestRule } } }`,
    `  { esetUserList(filter: { protectionStatus: UNPROTECTED }, first: 5) { totalCount edges { node { displayName defenderLinks { defenderUser { id } } } } } }`,
    "",
    `  curl -s ${graphqlUrl} -H 'content-type: application/json' \\`,
    `    -d '{"query":"{ esetUsers(uuids: [\\"${DEMO.esetAlice}\\", \\"${DEMO.esetBob}\\", \\"unknown\\"]) { uuid displayName protectionStatus activeProductIds } }"}'`,
    "",
    `Two customers (tenants), each on a simulator of its own: root fields answer for ${DEMO_TENANTS[0]!.name} ("${DEMO_TENANTS[0]!.id}"),`,
    `tenant(id:) for either (the explorer's BothTenants tab asks both):`,
    `  { ${DEMO_TENANTS.map((t) => `${t.id}: tenant(id: "${t.id}") { name esetUserList(first: 3) { edges { node { displayName } } } }`).join(" ")} }`,
    "",
    "Set DEFENDER_* and/or ESET_* variables (see README.md) to talk to the real vendors.",
    "",
  ].join("\n");
}
