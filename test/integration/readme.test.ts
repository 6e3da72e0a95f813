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
  const res = await fetch(gateway.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query }) });
  return (await res.json()) as { data?: Record<string, any> | null; errors?: unknown[] };
}

it("reproduces the README's list cursor across two demo starts, and the cursor pages on", async () => {
  const query = /### Lists\s+```graphql\n([\s\S]*?)```/.exec(readme)?.[1];
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
