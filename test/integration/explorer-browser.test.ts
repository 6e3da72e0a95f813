import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { CHROMIUM_PROBLEM_FILE } from "../global-setup";

/**
 * A real browser against `npm start`'s demo (the entry point, dist-test/main.js, as a child process):
 * headless Debian Chromium opens /explorer with every request to a host other than 127.0.0.1 refused, runs
 * the first ready tab, reads the answer off the page, runs a refused query and reads its error extensions,
 * and saves a screenshot to test-artifacts/explorer.png. scripts/ensure-chromium.sh (jest's globalSetup)
 * installs the browser; when it cannot be had this test fails and says why, it never passes without one.
 */
const root = join(__dirname, "..", "..");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOT = join(root, "test-artifacts", "explorer.png");

let app: ChildProcess | undefined;
let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
  app?.kill("SIGTERM");
});

async function startDemo(): Promise<string> {
  const child = spawn(process.execPath, [join(root, "dist-test", "main.js")], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  app = child;
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const until = Date.now() + 20_000;
  for (;;) {
    const m = /Explorer:\s+(http:\/\/127\.0\.0\.1:\d+\/explorer)/.exec(out);
    if (m) return m[1]!;
    if (Date.now() > until || child.exitCode !== null) throw new Error(`the demo did not print its explorer URL; output:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it("runs a query in /explorer in headless Chromium with nothing but 127.0.0.1 reachable", async () => {
  if (existsSync(CHROMIUM_PROBLEM_FILE) || !existsSync(CHROMIUM)) {
    const why = existsSync(CHROMIUM_PROBLEM_FILE) ? readFileSync(CHROMIUM_PROBLEM_FILE, "utf8") : `${CHROMIUM} does not exist`;
    throw new Error(`No browser for the explorer test: ${why}. Run scripts/ensure-chromium.sh (installs Debian's chromium package).`);
  }
  const started = Date.now();
  const explorerUrl = await startDemo();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, serviceWorkers: "block" });

  const hosts = new Map<string, number>();
  const refused: string[] = [];
  let bytes = 0;
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    hosts.set(url.host, (hosts.get(url.host) ?? 0) + 1);
    if (url.hostname !== "127.0.0.1") {
      refused.push(url.href);
      return route.abort("blockedbyclient");
    }
    return route.continue();
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (/content security policy|refused to/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  const introspections: number[] = [];
  page.on("response", (r) => {
    if ((r.request().postData() ?? "").includes("IntrospectionQuery")) introspections.push(r.status());
    r.body().then(
      (b) => (bytes += b.length),
      () => undefined,
    );
  });

  await page.goto(explorerUrl);
  await page.waitForSelector(".graphiql-container .graphiql-execute-button", { timeout: 20_000 });
  // The schema loads with the default limits: GraphiQL's own introspection query passes and its docs open.
  await page.locator(".graphiql-sidebar button[aria-label='Show Documentation Explorer']").click();
  await page.locator(".graphiql-doc-explorer", { hasText: "Query" }).waitFor({ timeout: 15_000 });
  expect(introspections.length).toBeGreaterThan(0);
  expect(introspections.every((status) => status === 200)).toBe(true);
  const tabs = await page.locator(".graphiql-tab .graphiql-tab-button").allTextContents();
  expect(tabs.slice(0, 3).map((t) => t.trim())).toEqual(["BothUsers", "Person", "EsetUserList"]);

  // The first ready tab, with the demo's example variables, as it stands.
  await page.click(".graphiql-execute-button");
  await page.locator(".result-window", { hasText: "Alice Example" }).waitFor({ timeout: 15_000 });
  const result = (await page.locator(".result-window").textContent()) ?? "";
  expect(result).toContain('"defenderUser"');
  expect(result).toContain('"id": "contoso\\\\alice"');
  expect(result).toContain('"displayName": "Alice Example"');
  mkdirSync(join(root, "test-artifacts"), { recursive: true });
  await page.screenshot({ path: SCREENSHOT });

  // A refused argument: the error's extensions show in the result pane.
  await page.locator(".graphiql-query-editor .CodeMirror").evaluate((editor) => {
    (editor as unknown as { CodeMirror: { setValue(v: string): void } }).CodeMirror.setValue(
      'query RefusedNextToGood { esetUsers(uuids: []) { uuid } defenderUser(id: "user1") { id } }',
    );
  });
  // GraphiQL takes the operation name from the editor a moment later; the tab's title shows when it has.
  await page.locator(".graphiql-tab-active .graphiql-tab-button", { hasText: "RefusedNextToGood" }).waitFor({ timeout: 10_000 });
  await page.click(".graphiql-execute-button");
  await page.locator(".result-window", { hasText: "BAD_USER_INPUT" }).waitFor({ timeout: 15_000 });
  const refusal = (await page.locator(".result-window").textContent()) ?? "";
  expect(refusal).toContain('"extensions"');
  expect(refusal).toContain('"esetUsers": null');
  expect(refusal).toContain('"id": "user1"');
  await page.screenshot({ path: join(root, "test-artifacts", "explorer-error.png") });

  const origin = new URL(explorerUrl).host;
  expect([...hosts.keys()]).toEqual([origin]);
  expect(refused).toEqual([]);
  expect(problems).toEqual([]);
  expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
  process.stdout.write(
    `explorer browser test: ${Date.now() - started} ms; hosts contacted: ${[...hosts.entries()].map(([h, n]) => `${h} (${n} requests)`).join(", ")}; ${bytes} bytes received (decoded)\n`,
  );
}, 90_000);
