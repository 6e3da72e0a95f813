import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import { startGateway, type Gateway } from "../../src/gateway";
import { LogCapture } from "../helpers/log-capture";

/**
 * The README's examples answer as shown on anyone's machine: the demo (`npm start` with no credentials,
 * its simulator on a new random port each time) hands out the very cursor the README prints, and takes it.
 */
const readme = readFileSync(join(__dirname, "..", "..", "README.md"), "utf8");

async function demo(): Promise<Gateway> {
  return startGateway(loadConfig({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn" }), { logDestination: new LogCapture() });
}

async function ask(gateway: Gateway, query: string): Promise<{ data?: Record<string, any> | null; errors?: unknown[] }> {
  const res = await fetch(gateway.url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query }),
  });
  return (await res.json()) as { data?: Record<string, any> | null; errors?: unknown[] };
}

it("answers every query of the README's first five minutes without an error", async () => {
  const section = readme.slice(readme.indexOf("## First five minutes"), readme.indexOf("## Partial results"));
  const queries = [...section.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(queries).toHaveLength(3);
  const gateway = await demo();
  try {
    // The demo serves two tenants (docs/tenants.md): the README's root fields answer for the first, as before.
    expect(gateway.clients.tenants.ids).toEqual(["default", "woodgrove"]);
    for (const query of queries) {
      const body = await ask(gateway, query);
      expect(body.errors).toBeUndefined();
      expect(Object.values(body.data ?? {}).every((v) => v !== null)).toBe(true);
    }
    const first = await ask(gateway, queries[0]!);
    expect(first.data).toEqual(JSON.parse(/```json\n([\s\S]*?)```/.exec(section)![1]!).data);
  } finally {
    await gateway.stop();
  }
});

it("reproduces the README's list cursor across two demo starts, and the cursor pages on", async () => {
  const query = /```graphql\n(\s*\{\s*esetUserList[\s\S]*?)```/.exec(readme)?.[1];
  const printed = /"endCursor": "([^"]+)"/.exec(readme)?.[1];
  expect(query).toContain("esetUserList");
  expect(printed).toBeDefined();
  const cursors: string[] = [];
  for (let start = 0; start < 2; start++) {
    const gateway = await demo();
    try {
      expect(gateway.config.demo).toBe(true);
      const first = await ask(gateway, query!);
      expect(first.errors).toBeUndefined();
      cursors.push(first.data!.esetUserList.pageInfo.endCursor);
      const next = await ask(gateway, query!.replace("first: 2)", `first: 2, after: "${printed}")`));
      expect(next.errors).toBeUndefined();
      expect(next.data!.esetUserList.edges.length).toBeGreaterThan(0);
    } finally {
      await gateway.stop();
    }
  }
  expect(cursors).toEqual([printed, printed]);
});
