import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSimulator, simulatorEnv, type Simulator } from "../../src/simulator/simulator";
import { TENANT_SECRETS, tenantEntry } from "../helpers/tenants";

/**
 * The real entry point (`dist-test/main.js`, compiled by test/global-setup.ts) with TRUSTED_DOCUMENTS=enforce:
 * SIGHUP reads the manifests again, and an unreadable manifest stops start-up with its name.
 */
const main = join(__dirname, "..", "..", "dist-test", "main.js");
const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
const DOC = "query SighupAdded { __typename }";
const manifest = (ops: string[]) =>
  JSON.stringify({
    format: "apollo-persisted-query-manifest",
    version: 1,
    operations: ops.map((body) => ({ id: sha256(body), name: "SighupAdded", type: "query", body })),
  });

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim.close());

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, [main], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      PORT: "0",
      HOST: "127.0.0.1",
      AUTH_MODE: "none",
      ...simulatorEnv(sim),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

async function until<T>(what: () => T | undefined | Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await what();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

it("SIGHUP registers a document added to a manifest, and keeps the registry when the manifest breaks", async () => {
  const path = join(mkdtempSync(join(tmpdir(), "usergraph-sighup-")), "manifest.json");
  writeFileSync(path, manifest([]));
  const app = run({ TRUSTED_DOCUMENTS: "enforce", TRUSTED_DOCUMENTS_MANIFESTS: path });
  try {
    const url = await until(() => /serving Defender and ESET at (http:\/\/\S+\/graphql)/.exec(app.out())?.[1]);
    const send = async () =>
      (
        await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ documentId: `sha256:${sha256(DOC)}` }),
        })
      ).status;
    expect(await send()).toBe(400);
    writeFileSync(path, manifest([DOC]));
    app.child.kill("SIGHUP");
    await until(async () => ((await send()) === 200 ? true : undefined));
    writeFileSync(path, "{ broken");
    app.child.kill("SIGHUP");
    await until(() => (app.out().includes("trusted documents NOT reloaded") ? true : undefined));
    expect(await send()).toBe(200);
    app.child.kill("SIGTERM");
    expect(await app.exited).toBe(0);
  } finally {
    app.child.kill("SIGKILL");
  }
}, 40_000);

it("refuses to start on a manifest it cannot read, naming it", async () => {
  const app = run({ TRUSTED_DOCUMENTS: "enforce", TRUSTED_DOCUMENTS_MANIFESTS: "/nonexistent/usergraph-manifest.json" });
  try {
    expect(await app.exited).not.toBe(0);
    expect(app.err()).toContain("TRUSTED_DOCUMENTS_MANIFESTS: /nonexistent/usergraph-manifest.json could not be read");
  } finally {
    app.child.kill("SIGKILL");
  }
}, 30_000);

it("SIGHUP reads a tenant's own manifests (TENANTS_FILE documents) again too", async () => {
  const dir = mkdtempSync(join(tmpdir(), "usergraph-sighup-tenant-"));
  const path = join(dir, "tenant-manifest.json");
  writeFileSync(path, manifest([]));
  const tenants = join(dir, "tenants.json");
  writeFileSync(tenants, JSON.stringify({ tenants: [{ ...tenantEntry("solo", sim), documents: ["tenant-manifest.json"] }] }));
  // The single-tenant variables are unset: the tenant's credentials come from the file.
  const unset = Object.fromEntries(Object.keys(simulatorEnv(sim)).map((k) => [k, ""]));
  const app = run({ ...unset, ...TENANT_SECRETS, TENANTS_FILE: tenants, TRUSTED_DOCUMENTS: "enforce" });
  try {
    const url = await until(() => /usergraph is serving 1 tenant [^\n]* at (http:\/\/\S+\/graphql)/.exec(app.out())?.[1]);
    const send = async () =>
      (
        await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ documentId: `sha256:${sha256(DOC)}` }),
        })
      ).status;
    expect(await send()).toBe(400);
    writeFileSync(path, manifest([DOC]));
    app.child.kill("SIGHUP");
    await until(async () => ((await send()) === 200 ? true : undefined));
    app.child.kill("SIGTERM");
    expect(await app.exited).toBe(0);
  } finally {
    app.child.kill("SIGKILL");
  }
}, 40_000);
