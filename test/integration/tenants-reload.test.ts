import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import { SIMULATOR_CREDENTIALS, startSimulator, type Simulator } from "../../src/simulator/simulator";
import { codes, startGatewayOn, type GatewayClient, type GraphQLResponse } from "../helpers/stack";
import { SIM_ESET_ENV, tenantEntry } from "../helpers/tenants";

/**
 * Reloading TENANTS_FILE (what SIGHUP does: `reloadTenants`, the function main.ts calls) on a real gateway
 * in front of two simulators: tenants added, removed and rotated without a failed answer, and a file that
 * no longer validates changes nothing. Every test starts from the same file (a on A's simulator, b on B's).
 */
const KEY_ALL = "reload-all-key-0123456789";
const KEY_A = "reload-a-key-0123456789";
const KEY_B = "reload-b-key-0123456789";
const JWT_SECRET = "a-shared-secret-of-at-least-32-characters!";
const WRONG = "not-the-secret-at-all";
const USER = "query ($id: ID!) { defenderUser(id: $id) { id } }";
/** Only in B's simulator (generated users). */
const B_ONLY = "bench\\user000001";

let simA: Simulator;
let simB: Simulator;
let gw: GatewayClient;
let file: string;
let env: Record<string, string>;

const baseline = () => [tenantEntry("a", simA, "SECRET_A"), tenantEntry("b", simB, "SECRET_B")];

/** Writes the file and reloads it, as SIGHUP does. */
function reloadWith(tenants: unknown[] | string): boolean {
  writeFileSync(file, typeof tenants === "string" ? tenants : JSON.stringify({ tenants }));
  return gw.gateway.reloadTenants(env);
}

beforeAll(async () => {
  [simA, simB] = await Promise.all([startSimulator(), startSimulator({ extraDefenderUsers: 3 })]);
  file = join(mkdtempSync(join(tmpdir(), "usergraph-tenants-reload-")), "tenants.json");
  writeFileSync(file, JSON.stringify({ tenants: baseline() }));
  env = {
    TENANTS_FILE: file,
    SECRET_A: SIMULATOR_CREDENTIALS.clientSecret,
    SECRET_A_NEXT: SIMULATOR_CREDENTIALS.clientSecret,
    SECRET_B: SIMULATOR_CREDENTIALS.clientSecret,
    SECRET_B_NEXT: SIMULATOR_CREDENTIALS.clientSecret,
    SECRET_WRONG: WRONG,
    ...SIM_ESET_ENV,
    AUTH_MODE: "",
    AUTH_API_KEYS: `${KEY_ALL}@*,${KEY_A}@a,${KEY_B}@b`,
    AUTH_JWT_SECRET: JWT_SECRET,
    AUTH_JWT_ISSUER: "https://issuer.example.com/",
    AUTH_JWT_AUDIENCE: "api://usergraph",
  };
  gw = await startGatewayOn(simA, env, () => ({}));
});
afterAll(async () => {
  await gw?.close();
  await Promise.all([simA?.close(), simB?.close()]);
});
beforeEach(() => {
  expect(reloadWith(baseline())).toBe(true);
  simA.reset();
  simB.reset();
});

function ask(auth: string, query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse<Record<string, any>>> {
  const headers: Record<string, string> = auth.includes(".") ? { authorization: `Bearer ${auth}` } : { "x-api-key": auth };
  return gw.post(JSON.stringify({ query, variables }), headers) as Promise<GraphQLResponse<Record<string, any>>>;
}

function jwt(tenants: string[] | "*"): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: "https://issuer.example.com/",
    aud: "api://usergraph",
    sub: "reload-suite",
    scp: "defender:users:read",
    tenants,
  })
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(new TextEncoder().encode(JWT_SECRET));
}

const visible = async (auth: string) =>
  ((await ask(auth, "{ tenants { id } }")).body.data!.tenants as Array<{ id: string }>).map((t) => t.id);

async function readiness(): Promise<{ tenants?: Record<string, unknown> }> {
  return (await fetch(gw.gateway.url.replace("/graphql", "/health/ready"))).json() as Promise<{ tenants?: Record<string, unknown> }>;
}

async function scrape(): Promise<string> {
  return (await fetch(gw.gateway.url.replace("/graphql", "/metrics"))).text();
}

async function until(what: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400 && !(await what()); i++) await new Promise((r) => setTimeout(r, 25));
  expect(await what()).toBe(true);
}

describe("reloading TENANTS_FILE", () => {
  it("adds a tenant: @* keys and tokens naming it see it at once", async () => {
    const named = await jwt(["c"]);
    const before = await ask(named, USER, { id: B_ONLY });
    expect(codes(before)).toEqual(["FORBIDDEN"]);
    expect(reloadWith([...baseline(), tenantEntry("c", simB, "SECRET_B")])).toBe(true);
    expect(await visible(KEY_ALL)).toEqual(["a", "b", "c"]);
    expect(await visible(await jwt("*"))).toEqual(["a", "b", "c"]);
    const after = await ask(named, USER, { id: B_ONLY });
    expect(after.body.errors).toBeUndefined();
    expect(after.body.data!.defenderUser.id).toBe(B_ONLY);
    expect(gw.logs.entries("TENANTS_FILE reloaded").at(-1)).toMatchObject({ added: ["c"], removed: [], restarted: [] });
    // Keys naming other tenants see no more than before.
    expect(await visible(KEY_A)).toEqual(["a"]);
  });

  it("removes a tenant: new requests FORBIDDEN, its request in flight answered, then it is closed and its series gone", async () => {
    // b started and its token held, then one of its lookups slowed at its vendor.
    expect((await ask(KEY_B, USER, { id: "bench\\user000002" })).body.data!.defenderUser.id).toBe("bench\\user000002");
    simB.reset();
    simB.inject({ target: "defender", kind: "delay", delayMs: 2_000 });
    const inFlight = ask(KEY_B, USER, { id: B_ONLY });
    await until(() => simB.count({ kind: "api" }) === 1);
    expect(reloadWith([tenantEntry("a", simA, "SECRET_A")])).toBe(true);
    // Retired at once: held by the request in flight, out of readiness, refused to every new request.
    expect(gw.gateway.clients.tenants.retiring()).toBe(1);
    expect((await readiness()).tenants?.b).toBeUndefined();
    const refused = await ask(KEY_B, USER, { id: B_ONLY });
    expect(refused.body.data!.defenderUser).toBeNull();
    expect(codes(refused)).toEqual(["FORBIDDEN"]);
    expect(await visible(KEY_B)).toEqual([]);
    expect(await visible(KEY_ALL)).toEqual(["a"]);
    // The request in flight finishes with its data.
    const finished = await inFlight;
    expect(finished.body.errors).toBeUndefined();
    expect(finished.body.data!.defenderUser.id).toBe(B_ONLY);
    // Then b is closed: nothing holds it, and it has no series left.
    await until(() => gw.gateway.clients.tenants.retiring() === 0);
    await until(async () => !(await scrape()).includes('tenant="b"'));
    expect(simB.count({ kind: "api" })).toBe(1);
  });

  it("never serves a tenant's cache entries to another tenant added on the same vendor and credentials", async () => {
    const id = "bench\\user000000";
    expect((await ask(KEY_B, USER, { id })).body.data!.defenderUser.id).toBe(id);
    expect(reloadWith([tenantEntry("a", simA, "SECRET_A"), tenantEntry("b2", simB, "SECRET_B")])).toBe(true);
    simB.reset();
    const token = await jwt(["b2"]);
    expect((await ask(token, USER, { id })).body.data!.defenderUser.id).toBe(id);
    // b2's own lookup: b's entry, unreachable since b is gone, was not served.
    expect(simB.count({ kind: "api", endpoint: "users.get" })).toBe(1);
  });

  it("rotates a secret: the tenant restarts with the new one on its next request, its old token dropped", async () => {
    expect((await ask(KEY_B, USER, { id: B_ONLY })).body.errors).toBeUndefined();
    // b's secret now names a wrong one: the token b held is not used any more.
    expect(reloadWith([tenantEntry("a", simA, "SECRET_A"), tenantEntry("b", simB, "SECRET_WRONG")])).toBe(true);
    expect(gw.logs.entries("TENANTS_FILE reloaded").at(-1)).toMatchObject({ restarted: ["b"] });
    const refused = await ask(KEY_B, USER, { id: "bench\\user000002" });
    expect(codes(refused)).toEqual(["UPSTREAM_UNAUTHENTICATED"]);
    // The remembered failure goes with the old secret: the next one logs in at once.
    expect(reloadWith([tenantEntry("a", simA, "SECRET_A"), tenantEntry("b", simB, "SECRET_B_NEXT")])).toBe(true);
    simB.reset();
    const ok = await ask(KEY_B, USER, { id: "bench\\user000002" });
    expect(ok.body.errors).toBeUndefined();
    expect(simB.count({ kind: "token", source: "DEFENDER" })).toBe(1);
    // a was not touched: still no new login.
    expect(simA.count({ kind: "token" })).toBe(0);
    expect(gw.logs.text()).not.toContain(WRONG);
  });

  it("keeps the tenants in force when the file no longer validates, says why once, and counts it", async () => {
    const refusedBefore = /usergraph_tenants_reloads_total\{outcome="refused"\} (\d+)/.exec(await scrape())?.[1] ?? "0";
    const broken = [
      tenantEntry("a", simA, "SECRET_A"),
      { ...tenantEntry("b", simB, "SECRET_B"), defender: { ...tenantEntry("b", simB, "UNSET_VARIABLE").defender } },
      { id: "Bad Id" },
    ];
    const said = "TENANTS_FILE NOT reloaded: the tenants in force are unchanged";
    const earlier = gw.logs.entries(said).length;
    expect(reloadWith(broken)).toBe(false);
    const errors = gw.logs.entries(said).slice(earlier);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.level).toBe(50);
    const problems = errors[0]!.problems as string[];
    expect(problems.some((p) => p.includes("UNSET_VARIABLE, which is not set"))).toBe(true);
    expect(problems.some((p) => p.includes("tenants[2].id"))).toBe(true);
    expect(JSON.stringify(errors[0])).not.toContain(SIMULATOR_CREDENTIALS.clientSecret);
    // Not half-applied: both tenants answer as before.
    expect(await visible(KEY_ALL)).toEqual(["a", "b"]);
    expect((await ask(KEY_B, USER, { id: B_ONLY })).body.data!.defenderUser.id).toBe(B_ONLY);
    expect(reloadWith("{ not json")).toBe(false);
    expect(await visible(KEY_ALL)).toEqual(["a", "b"]);
    const refusedAfter = /usergraph_tenants_reloads_total\{outcome="refused"\} (\d+)/.exec(await scrape())?.[1];
    expect(Number(refusedAfter) - Number(refusedBefore)).toBe(2);
  });

  it("answers every request of a load running across reloads", async () => {
    let stop = false;
    const answers: Array<{ auth: string; res: GraphQLResponse<Record<string, any>> }> = [];
    let n = 0;
    // Every other lookup a known user (data), the others ids no vendor has (null, no error), so calls go out.
    const worker = async (auth: string) => {
      for (let i = 0; !stop; i++) answers.push({ auth, res: await ask(auth, USER, { id: i % 2 ? `load-${n++}` : "contoso\\alice" }) });
    };
    const workers = [worker(KEY_A), worker(KEY_A), worker(KEY_ALL), worker(KEY_ALL)];
    const after = async (count: number) => until(() => answers.length >= count);
    try {
      await after(10);
      expect(reloadWith([...baseline(), tenantEntry("c", simB, "SECRET_B")])).toBe(true);
      await after(20);
      // a's secret rotated (same value, another variable): a restarts under the load.
      expect(reloadWith([tenantEntry("a", simA, "SECRET_A_NEXT"), tenantEntry("b", simB, "SECRET_B")])).toBe(true);
      await after(30);
      expect(reloadWith("{ broken")).toBe(false);
      await after(40);
      expect(reloadWith(baseline())).toBe(true);
      await after(50);
    } finally {
      stop = true;
      await Promise.all(workers);
    }
    // a's callers get their data every time; KEY_ALL sees several tenants, so its root fields answer
    // TENANT_REQUIRED, every time: an answer, never a failure.
    for (const { auth, res } of answers) {
      expect(res.status).toBe(200);
      expect(codes(res)).toEqual(auth === KEY_A ? [] : ["TENANT_REQUIRED"]);
    }
    const ofA = answers.filter((a) => a.auth === KEY_A).map((a) => a.res.body.data!.defenderUser);
    expect(ofA.filter((u) => u?.id === "contoso\\alice").length).toBeGreaterThan(5);
  });
});

it("SIGHUP reloads TENANTS_FILE in the real process, and a broken file leaves the tenants in force", async () => {
  // The real entry point (compiled by test/global-setup.ts), as trusted-documents.sighup.test.ts runs it.
  const path = join(mkdtempSync(join(tmpdir(), "usergraph-tenants-sighup-")), "tenants.json");
  writeFileSync(path, JSON.stringify({ tenants: [tenantEntry("a", simA, "SECRET_A")] }));
  const child = spawn(process.execPath, [join(__dirname, "..", "..", "dist-test", "main.js")], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      PORT: "0",
      HOST: "127.0.0.1",
      TENANTS_FILE: path,
      SECRET_A: SIMULATOR_CREDENTIALS.clientSecret,
      ...SIM_ESET_ENV,
      AUTH_API_KEYS: `${KEY_ALL}@*`,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  try {
    await until(() => /serving 1 tenant \(each started on its first request\) at (http:\/\/\S+\/graphql)/.test(out));
    const url = /at (http:\/\/\S+\/graphql)/.exec(out)![1]!;
    const tenants = async () => {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": KEY_ALL },
        body: JSON.stringify({ query: "{ tenants { id } }" }),
      });
      return ((await res.json()) as { data: { tenants: Array<{ id: string }> } }).data.tenants.map((t) => t.id).join(",");
    };
    expect(await tenants()).toBe("a");
    writeFileSync(path, JSON.stringify({ tenants: [tenantEntry("a", simA, "SECRET_A"), tenantEntry("c", simB, "SECRET_A")] }));
    child.kill("SIGHUP");
    await until(async () => (await tenants()) === "a,c");
    writeFileSync(path, "{ broken");
    child.kill("SIGHUP");
    await until(() => out.includes("TENANTS_FILE NOT reloaded"));
    expect(await tenants()).toBe("a,c");
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  } finally {
    child.kill("SIGKILL");
  }
}, 40_000);
