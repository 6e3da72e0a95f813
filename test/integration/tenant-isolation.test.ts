import { createHash } from "node:crypto";
import { SignJWT } from "jose";
import { DEMO } from "../../src/simulator/demo-data";
import { SIMULATOR_CREDENTIALS, startSimulator, type Simulator } from "../../src/simulator/simulator";
import { uniquePrefix } from "../helpers/replicas";
import { codes, startGatewayOn, type GatewayClient, type GraphQLResponse } from "../helpers/stack";
import { TENANT_SECRETS, tempDir, tenantEntry, writeTenantsFile } from "../helpers/tenants";

/**
 * Isolation between tenants, the ways not covered by tenants.test.ts (docs/tenants.md, "Isolation guarantees
 * and their tests"): persisted queries (APQ), listings (the fleet views), errors (another tenant's wrong
 * secret, open circuit, exhausted quota) and the explorer's page. Tenant A is `northwind` on one simulator,
 * tenant B `globex` on another; every name of B's holds "globex"/"Globex", so one search finds it in a text.
 * A caller of A asks for what B holds and gets nothing, with 0 calls at B's simulator.
 */
const KEY_A = "isolation-a-key-0123456789";
const KEY_B = "isolation-b-key-0123456789";
const A = "northwind";
const B = "globex";
const JWT_SECRET = "isolation-suite-secret-of-32-characters!";
const ISSUER = "https://issuer.example.com/";
const AUDIENCE = "api://usergraph";
const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
const since = () => new Date(Date.now() - 7 * 86_400_000).toISOString();

let simA: Simulator;
let simB: Simulator;
let dir: string;

beforeAll(async () => {
  [simA, simB] = await Promise.all([
    startSimulator(),
    startSimulator({ extraDefenderUsers: 5, extraDefenderMachines: 7, extraDefenderAlerts: 30, extraEsetUsers: 9 }),
  ]);
  dir = tempDir("usergraph-isolation-");
});
afterAll(() => Promise.all([simA?.close(), simB?.close()]));
beforeEach(() => {
  simA.reset();
  simB.reset();
});

/** The variables of a gateway serving `tenants` (northwind on A's simulator and globex on B's unless given). */
function tenantsEnv(
  tenants: unknown[] = [
    { ...tenantEntry(A, simA), name: "Northwind Traders" },
    { ...tenantEntry(B, simB), name: "Globex Corporation" },
  ],
) {
  return {
    TENANTS_FILE: writeTenantsFile(dir, tenants, `tenants-${sha256(JSON.stringify(tenants)).slice(0, 8)}.json`),
    ...TENANT_SECRETS,
    AUTH_MODE: "",
    AUTH_API_KEYS: `${KEY_A}@${A},${KEY_B}@${B}`,
  };
}

type Res = GraphQLResponse<Record<string, any>>;
const post = (gw: GatewayClient, body: Record<string, unknown>, headers: Record<string, string>) =>
  gw.post(JSON.stringify(body), headers) as Promise<Res>;
const key = (k: string) => ({ "x-api-key": k });

/** What B's caller may have let through into any text: B's id and name, and its simulator's address. */
function expectNothingOfB(text: string) {
  expect(text.toLowerCase()).not.toContain("globex");
  expect(text).not.toContain(simB.url);
  expect(text).not.toContain(`:${new URL(simB.url).port}`);
}

describe("APQ: one tenant's persisted queries are never another's", () => {
  /** Two JWTs with the same `sub`, each naming one tenant: APQ's namespace must not be the subject alone. */
  const jwt = (tenants: string[]) =>
    new SignJWT({ tenants, scp: "defender:users:read eset:users:read" })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject("customer-portal")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode(JWT_SECRET));
  const bearer = async (tenants: string[]) => ({ authorization: `Bearer ${await jwt(tenants)}` });
  const jwtEnv = () => ({ ...tenantsEnv(), AUTH_JWT_SECRET: JWT_SECRET, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE });

  /** Registers `query` (sent whole with its hash) for the caller of `headers`, then asks by hash alone. */
  const register = (gw: GatewayClient, query: string, headers: Record<string, string>) =>
    post(
      gw,
      { query, variables: { id: DEMO.defenderAlice }, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(query) } } },
      headers,
    );
  const byHash = (gw: GatewayClient, query: string, headers: Record<string, string>) =>
    post(gw, { variables: { id: DEMO.defenderAlice }, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(query) } } }, headers);
  const notFound = (res: Res) => {
    expect(codes(res)).toEqual(["PERSISTED_QUERY_NOT_FOUND"]);
    expect(res.body.data).toBeUndefined();
  };

  describe("in process", () => {
    let gw: GatewayClient;
    beforeAll(async () => {
      gw = await startGatewayOn(simA, jwtEnv(), () => ({}));
    });
    afterAll(() => gw?.close());

    it.each([
      ["API keys", async () => key(KEY_A), async () => key(KEY_B)],
      ["JWTs with the same sub", () => bearer([A]), () => bearer([B])],
    ])(
      "a hash A's caller registered is PERSISTED_QUERY_NOT_FOUND for B's caller, and the other way round (%s), 0 calls at B",
      async (what, ofA, ofB) => {
        const [a, b] = [await ofA(), await ofB()];
        const queryA = `query ApqOfA($id: ID!) { defenderUser(id: $id) { id } } # ${what}`;
        const queryB = `query ApqOfB($id: ID!) { defenderUser(id: $id) { accountName } } # ${what}`;
        expect((await register(gw, queryA, a)).body.data!.defenderUser.id).toBe(DEMO.defenderAlice);
        expect((await byHash(gw, queryA, a)).body.data!.defenderUser.id).toBe(DEMO.defenderAlice);
        simB.reset();
        notFound(await byHash(gw, queryA, b));
        expect(simB.requests.length).toBe(0);
        expect((await register(gw, queryB, b)).body.data!.defenderUser.accountName).toBe("alice");
        simB.reset();
        notFound(await byHash(gw, queryB, a));
        expect(simB.requests.length).toBe(0);
      },
    );
  });

  describe("with Redis, the second replica", () => {
    let one: GatewayClient;
    let two: GatewayClient;
    beforeAll(async () => {
      const env = { ...jwtEnv(), REDIS_URL: "redis://127.0.0.1:6379", REDIS_KEY_PREFIX: uniquePrefix() };
      [one, two] = await Promise.all([startGatewayOn(simA, env, () => ({})), startGatewayOn(simA, env, () => ({}))]);
    });
    afterAll(() => Promise.all([one?.close(), two?.close()]));

    it("knows A's hash for A's caller only: B's caller gets PERSISTED_QUERY_NOT_FOUND there, API key or same-sub JWT, 0 calls at B", async () => {
      const query = `query ApqShared($id: ID!) { defenderUser(id: $id) { id accountName } }`;
      for (let i = 0; i < 200 && !(one.gateway.redis!.available && two.gateway.redis!.available); i++)
        await new Promise((r) => setTimeout(r, 10));
      expect((await register(one, query, key(KEY_A))).status).toBe(200);
      expect((await register(one, query, await bearer([A]))).status).toBe(200);
      // Registration is written to Redis after the answer: wait until the other replica sees it.
      let shared: Res | undefined;
      for (let i = 0; i < 100 && codes((shared = await byHash(two, query, key(KEY_A)))).length > 0; i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(shared!.body.data!.defenderUser.id).toBe(DEMO.defenderAlice);
      for (let i = 0; i < 100 && codes((shared = await byHash(two, query, await bearer([A])))).length > 0; i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(shared!.body.data!.defenderUser.id).toBe(DEMO.defenderAlice);
      simB.reset();
      notFound(await byHash(two, query, key(KEY_B)));
      notFound(await byHash(two, query, await bearer([B])));
      notFound(await byHash(one, query, await bearer([B])));
      expect(simB.requests.length).toBe(0);
    });
  });
});

/** Every listing the fleet views keep: machines, the alert window, ESET's user list. */
const FLEET = `query ($since: DateTime!) {
  defenderMachines(first: 200) { totalCount edges { node { id } } }
  defenderAlerts(first: 200) { totalCount edges { node { id } } }
  defenderUsersAtRisk(since: $since, first: 100) { totalCount edges { node { id } } }
  peopleAtRisk(since: $since, first: 100) { totalCount edges { node { defender { id } } } }
  esetUserList(first: 100) { edges { node { uuid } } }
}`;

describe("listings: the fleet views B's caller warmed are never served to A's", () => {
  const fleet = (gw: GatewayClient, k: string, variables: Record<string, unknown>) => post(gw, { query: FLEET, variables }, key(k));
  /** Calls for whole listings: the fleet, the alert listings and windows (`$top=10000`), ESET's user list at 1,000 a page. */
  const listingCalls = (sim: Simulator) =>
    sim.requests.filter((r) => /\$top=10000|pageSize=1000\b/.test(decodeURIComponent(r.path))).length;
  /** The listings replicas share through Redis: the fleet, the alert window, ESET's user list (not the counts of an alert filter). */
  const sharedListingCalls = (sim: Simulator) =>
    sim.requests.filter((r) => /machines\?\$top=10000|\$filter=lastUpdateTime|pageSize=1000\b/.test(decodeURIComponent(r.path))).length;
  /** A's answer is A's simulator's fleet, nothing of B's generated one (bench-…, bench\user…). */
  const expectFleetOfA = (res: Res) => {
    expect(res.body.errors).toBeUndefined();
    const data = res.body.data!;
    expect(data.defenderMachines.totalCount).toBe(simA.defenderMachines.size);
    expect(data.defenderAlerts.totalCount).toBe(simA.defenderAlerts.size);
    expect(data.esetUserList.edges.map((e: { node: { uuid: string } }) => e.node.uuid).sort()).toEqual([...simA.esetUsers.keys()].sort());
    expect(res.text).not.toContain("bench");
  };

  it("in process: B's listings, warm for B (0 calls), are not A's; A's come from A's simulator, 0 calls at B", async () => {
    const gw = await startGatewayOn(simA, { ...tenantsEnv(), CACHE_TTL_SECONDS: "60" }, () => ({}));
    try {
      const variables = { since: since() };
      const ofB = await fleet(gw, KEY_B, variables);
      expect(ofB.body.errors).toBeUndefined();
      expect(ofB.body.data!.defenderMachines.totalCount).toBe(simB.defenderMachines.size);
      const ofBListings = listingCalls(simB);
      expect(ofBListings).toBeGreaterThanOrEqual(4);
      simB.reset();
      // Warm for B: its listings are kept (the pages of esetUserList and defenderAlerts are asked each time).
      expect((await fleet(gw, KEY_B, variables)).body.data).toEqual(ofB.body.data);
      expect(listingCalls(simB)).toBe(0);
      simB.reset();
      const ofA = await fleet(gw, KEY_A, variables);
      expectFleetOfA(ofA);
      // A's own listings, each asked of A's vendor.
      expect(listingCalls(simA)).toBe(ofBListings);
      expect(simB.requests.length).toBe(0);
    } finally {
      await gw.close();
    }
  });

  it("with Redis: B's listings reach B's caller on the other replica (0 calls at B), never A's, 0 calls at B", async () => {
    const env = { ...tenantsEnv(), CACHE_TTL_SECONDS: "60", REDIS_URL: "redis://127.0.0.1:6379", REDIS_KEY_PREFIX: uniquePrefix() };
    const [one, two] = await Promise.all([startGatewayOn(simA, env, () => ({})), startGatewayOn(simA, env, () => ({}))]);
    try {
      const variables = { since: since() };
      // Both replicas on Redis before the first request (start-up does not wait for it long).
      for (let i = 0; i < 200 && !(one.gateway.redis!.available && two.gateway.redis!.available); i++)
        await new Promise((r) => setTimeout(r, 10));
      const ofB = await fleet(one, KEY_B, variables);
      expect(ofB.body.data!.defenderMachines.totalCount).toBe(simB.defenderMachines.size);
      simB.reset();
      // The listings are written to Redis as they are made; B's caller on the other replica reads them.
      expect((await fleet(two, KEY_B, variables)).body.data).toEqual(ofB.body.data);
      expect(sharedListingCalls(simB)).toBe(0);
      simB.reset();
      expectFleetOfA(await fleet(two, KEY_A, variables));
      expect(listingCalls(simA)).toBeGreaterThanOrEqual(4);
      expect(simB.requests.length).toBe(0);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });
});

describe("errors: B's trouble never shows in A's answers", () => {
  const KEY_BAD = "isolation-bad-secret-key-0123456789";
  const KEY_CIRCUIT = "isolation-circuit-key-0123456789";
  const KEY_QUOTA = "isolation-quota-key-0123456789";
  let gw: GatewayClient;
  beforeAll(async () => {
    // B's three troubles, each in a tenant of its own on B's simulator: a wrong secret, a vendor that fails
    // (its circuit opens after 3 failures), a quota spent (4 Defender calls a minute, per tenant).
    const tenants = [
      { ...tenantEntry(A, simA), name: "Northwind Traders" },
      { ...tenantEntry(`${B}-bad-secret`, simB, "WRONG_SECRET"), name: "Globex Bad Secret" },
      { ...tenantEntry(`${B}-circuit`, simB), name: "Globex Circuit" },
      { ...tenantEntry(`${B}-quota`, simB), name: "Globex Quota" },
    ];
    const env = tenantsEnv(tenants);
    gw = await startGatewayOn(
      simA,
      {
        ...env,
        WRONG_SECRET: "not-the-secret-of-globex",
        AUTH_API_KEYS: `${KEY_A}@${A},${KEY_BAD}@${B}-bad-secret,${KEY_CIRCUIT}@${B}-circuit,${KEY_QUOTA}@${B}-quota`,
        CIRCUIT_FAILURE_THRESHOLD: "3",
        CIRCUIT_OPEN_SECONDS: "60",
        UPSTREAM_MAX_RETRIES: "0",
        DEFENDER_RATE_LIMITS: "4/60s",
        RATE_LIMIT_CALLER_SHARE: "100",
        RATE_LIMIT_MAX_QUEUE: "0",
      },
      () => ({}),
    );
  });
  afterAll(() => gw?.close());

  const USER = "query ($id: ID!) { defenderUser(id: $id) { id accountName } }";
  const OF_A = `query ($id: ID!, $uuid: ID!) { defenderUser(id: $id) { id accountName } esetUser(uuid: $uuid) { uuid displayName } tenants { id name } }`;
  const askA = () => post(gw, { query: OF_A, variables: { id: DEMO.defenderAlice, uuid: DEMO.esetAlice } }, key(KEY_A));

  it("A's answer while B has a wrong secret, an open circuit and a spent quota is byte for byte its answer before, with nothing of B's", async () => {
    const before = await askA();
    expect(before.body).toEqual({
      data: {
        defenderUser: { id: DEMO.defenderAlice, accountName: "alice" },
        esetUser: { uuid: DEMO.esetAlice, displayName: "Alice Example" },
        tenants: [{ id: A, name: "Northwind Traders" }],
      },
    });

    // B's wrong secret.
    expect(codes(await post(gw, { query: USER, variables: { id: DEMO.defenderAlice } }, key(KEY_BAD)))).toEqual([
      "UPSTREAM_UNAUTHENTICATED",
    ]);
    // B's vendor failing: three failures open its circuit, the fourth is refused without a call.
    simB.inject({ target: "defender", kind: "status", status: 502, pathIncludes: "circuit-victim", times: 3 });
    for (let i = 0; i < 3; i++)
      expect(codes(await post(gw, { query: USER, variables: { id: `contoso\\circuit-victim-${i}` } }, key(KEY_CIRCUIT)))).toEqual([
        "UPSTREAM_ERROR",
      ]);
    expect(codes(await post(gw, { query: USER, variables: { id: DEMO.defenderAlice } }, key(KEY_CIRCUIT)))).toEqual([
      "UPSTREAM_UNAVAILABLE",
    ]);
    // B's quota: four calls a minute, the fifth is refused.
    for (let i = 0; i < 4; i++) await post(gw, { query: USER, variables: { id: `contoso\\quota-${i}` } }, key(KEY_QUOTA));
    expect(codes(await post(gw, { query: USER, variables: { id: "contoso\\quota-4" } }, key(KEY_QUOTA)))).toEqual(["RATE_LIMITED"]);

    simA.reset();
    simB.reset();
    const after = await askA();
    expect(after.status).toBe(200);
    expect(after.text).toBe(before.text);
    expect(after.headers.get("retry-after")).toBeNull();
    // Answered by A's own vendor (the cache is off here), nothing asked of B.
    expect(simA.count({ source: "DEFENDER", kind: "api" })).toBe(1);
    expect(simB.requests.length).toBe(0);
    for (const res of [before, after]) {
      expectNothingOfB(res.text);
      expect(res.text).not.toContain("not-the-secret");
    }
  });

  it("A's own refusals name nothing of B's: a tenant of B's is FORBIDDEN as an unknown one, 0 calls at B", async () => {
    const query = 'query ($t: ID!) { tenant(id: $t) { id name defenderUser(id: "x") { id } } }';
    for (const t of [`${B}-bad-secret`, `${B}-circuit`, `${B}-quota`]) {
      const res = await post(gw, { query, variables: { t } }, key(KEY_A));
      expect(codes(res)).toEqual(["FORBIDDEN"]);
      expect(res.text).toBe((await post(gw, { query, variables: { t: "nobody-at-all" } }, key(KEY_A))).text);
      expectNothingOfB(res.text);
    }
    expect(simB.requests.length).toBe(0);
  });
});

describe("the explorer: with tenants and no demo, its page and assets hold no tenant's id, name or data", () => {
  it("serves /explorer and every asset it names without a tenant's id, name, vendor address or data, 0 calls at any vendor", async () => {
    const gw = await startGatewayOn(simA, { ...tenantsEnv(), GRAPHQL_EXPLORER: "1" }, () => ({}));
    try {
      // B's caller has asked something first: nothing it read may reach the page.
      expect(
        (await post(gw, { query: "query ($id: ID!) { defenderUser(id: $id) { id } }", variables: { id: "bench\\user000001" } }, key(KEY_B)))
          .body.errors,
      ).toBeUndefined();
      simA.reset();
      simB.reset();
      const base = gw.gateway.url.replace(/\/graphql$/, "");
      const page = await fetch(`${base}/explorer`);
      expect(page.status).toBe(200);
      const html = await page.text();
      const assets = [...html.matchAll(/(?:src|href)="(explorer\/assets\/[^"]+)"/g)].map((m) => m[1]!);
      expect(assets.length).toBeGreaterThanOrEqual(4);
      const texts = [html];
      for (const asset of assets) {
        const res = await fetch(`${base}/${asset}`);
        expect(res.status).toBe(200);
        texts.push(await res.text());
      }
      // No example values without the demo: the ready tabs carry no variables.
      const config = JSON.parse(/<script type="application\/json" id="explorer-config">([^<]*)<\/script>/.exec(html)![1]!) as {
        tabs: Array<{ variables?: string }>;
      };
      expect(config.tabs.length).toBeGreaterThan(0);
      expect(config.tabs.every((t) => t.variables === undefined)).toBe(true);
      // What the tenants' vendors hold (the simulator's demo people, B's generated ones), ids and names.
      const demoValues = Object.values(DEMO as Record<string, unknown>).filter((v): v is string => typeof v === "string" && v.length >= 8);
      const forbidden = [
        A,
        "Northwind",
        simA.url,
        SIMULATOR_CREDENTIALS.tenantId,
        SIMULATOR_CREDENTIALS.clientId,
        "bench\\user",
        "bench\\\\user",
        ...demoValues,
        ...demoValues.filter((v) => v.includes("\\")).map((v) => JSON.stringify(v).slice(1, -1)),
      ];
      for (const text of texts) {
        expectNothingOfB(text);
        for (const value of forbidden) expect(text.includes(value) ? value : "").toBe("");
      }
      expect(simA.requests.length + simB.requests.length).toBe(0);
    } finally {
      await gw.close();
    }
  });
});
