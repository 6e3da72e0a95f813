import { EsetUserDocument, EsetUserListDocument, EsetUsersDocument, type EsetUserFilter } from "../__generated__/operations";
import { activeProductsOf, DEMO, type WireObject } from "../../src/simulator/demo-data";
import { startSimulator, type Simulator } from "../../src/simulator/simulator";
import { codes, startGatewayOn, startStack, type GatewayClient, type Stack } from "../helpers/stack";

const GROUP_A1 = "a1b2c3d4-0000-4000-8000-0000000000a1";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({}, { extraEsetUsers: 3000 });
});
afterAll(() => stack.close());
beforeEach(() => stack.sim.reset());

/** The simulator's users that satisfy `keep`, in list order: what paging must return, computed independently of the simulator's filter. */
function expected(sim: Simulator, keep: (u: WireObject) => boolean): string[] {
  return [...sim.esetUsers.values()].filter(keep).map((u) => u.uuid as string);
}

const listCalls = (sim: Simulator) => sim.requests.filter((r) => r.kind === "api" && r.path.startsWith("/v1/users?"));

/** Pages to the end, checking every page's shape; returns the uuids in order and how many pages it took. */
async function pageAll(client: Pick<GatewayClient, "gql">, filter: EsetUserFilter | null, first: number, after: string | null = null) {
  const uuids: string[] = [];
  let pages = 0;
  for (;;) {
    const res = await client.gql(EsetUserListDocument, { filter, first, after });
    expect(res.body.errors).toBeUndefined();
    const list = res.body.data!.esetUserList;
    pages++;
    expect(list!.pageInfo.hasPreviousPage).toBe(after !== null);
    expect(list!.edges.length).toBeLessThanOrEqual(first);
    expect(list!.pageInfo.endCursor).toBe(list!.edges[list!.edges.length - 1]?.cursor ?? null);
    uuids.push(...list!.edges.map((e) => e.node!.uuid));
    if (!list!.pageInfo.hasNextPage) return { uuids, pages, totalCount: list!.totalCount };
    expect(list!.edges).toHaveLength(first);
    after = list!.pageInfo.endCursor;
  }
}

const status = (u: WireObject) => u.protectionStatus;
const cloud = (u: WireObject) => (u.cloudOffice ?? {}) as WireObject;

describe("esetUserList", () => {
  it.each([
    [
      "UNPROTECTED users",
      { protectionStatus: "UNPROTECTED" },
      (u: WireObject) => status(u) === "PROTECTION_STATUS_UNPROTECTED",
      [1000, 250, 37],
    ],
    [
      "display name and licence",
      { displayName: "Generated User 0012", hasCloudOfficeMsLicense: true },
      (u: WireObject) => String(u.displayName).includes("Generated User 0012") && cloud(u).hasMsLicense === true,
      [7, 80],
    ],
    [
      "group, e-mail and an auto-activated product",
      {
        email: "generated.example",
        userGroupUuid: GROUP_A1,
        activeProduct: { id: "112", autoActivationBase: "USER_GROUP", autoActivationUserGroupUuid: GROUP_A1 },
      },
      (u: WireObject) =>
        String(u.primaryEmailAddress).includes("generated.example") &&
        (u.userGroupUuids as string[]).includes(GROUP_A1) &&
        activeProductsOf(u).some((p) => p.id === "112" && p.userGroupUuid === GROUP_A1),
      [300, 999],
    ],
    [
      "a cloud office tenant",
      { cloudOfficeTenantReference: "C03generated" },
      (u: WireObject) => cloud(u).tenantReference === "C03generated",
      [100, 1000],
    ],
  ] as Array<[string, EsetUserFilter, (u: WireObject) => boolean, number[]]>)(
    "pages through thousands of users filtered by %s, returning each match exactly once at every page size",
    async (_name, filter, keep, sizes) => {
      const want = expected(stack.sim, keep);
      expect(want.length).toBeGreaterThan(50);
      for (const first of sizes) {
        stack.sim.reset();
        const { uuids, pages, totalCount } = await pageAll(stack, filter, first);
        expect(uuids).toEqual(want);
        expect(new Set(uuids).size).toBe(uuids.length);
        expect(totalCount).toBe(want.length);
        // Forward paging with one page size: one vendor call a page, each the size of the page.
        const calls = listCalls(stack.sim);
        expect(calls).toHaveLength(pages);
        expect(calls.every((r) => new URLSearchParams(r.path.split("?")[1]).get("pageSize") === String(first))).toBe(true);
      }
    },
  );

  it("resumes from any edge's cursor and with any page size, still returning each user once", async () => {
    const filter = { protectionStatus: "FULLY_PROTECTED" as const };
    const want = expected(stack.sim, (u) => status(u) === "PROTECTION_STATUS_FULLY_PROTECTED");
    const first = await stack.gql(EsetUserListDocument, { filter, first: 10, after: null });
    const edges = first.body.data!.esetUserList!.edges;
    expect(edges.map((e) => e.node!.uuid)).toEqual(want.slice(0, 10));
    stack.sim.reset();
    // From the middle of a vendor page: the rest of that page, then the next one.
    const fromMiddle = await stack.gql(EsetUserListDocument, { filter, first: 20, after: edges[3]!.cursor });
    expect(fromMiddle.body.data!.esetUserList!.edges.map((e) => e.node!.uuid)).toEqual(want.slice(4, 24));
    expect(listCalls(stack.sim).length).toBeLessThanOrEqual(2);
    const rest = await pageAll(stack, filter, 997, fromMiddle.body.data!.esetUserList!.pageInfo.endCursor);
    expect([...want.slice(0, 24), ...rest.uuids]).toEqual(want);
  });

  it("maps every filter ESET documents onto its query parameters", async () => {
    const filter: EsetUserFilter = {
      displayName: "Dave",
      email: "northwind",
      protectionStatus: "FULLY_PROTECTED",
      userGroupUuid: "a1b2c3d4-0000-4000-8000-000000000002",
      cloudOfficeTenantReference: "7a0e5c3d-northwind",
      hasCloudOfficeMsLicense: true,
      activeProduct: {
        id: "112",
        name: "ESET_CLOUD_OFFICE_SECURITY",
        autoActivated: true,
        autoActivationBase: "USER_GROUP",
        autoActivationUserGroupUuid: "a1b2c3d4-0000-4000-8000-000000000002",
        subscriptionUuid: DEMO.subscription,
        unitPoolUuid: DEMO.unitPool,
      },
    };
    const res = await stack.gql(EsetUserListDocument, { filter, first: 5, after: null });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.esetUserList!.edges.map((e) => e.node!.uuid)).toEqual([DEMO.esetDave]);
    const sent = Object.fromEntries(new URLSearchParams(listCalls(stack.sim)[0]!.path.split("?")[1]));
    expect(sent).toEqual({
      displayName: "Dave",
      email: "northwind",
      protectionStatus: "PROTECTION_STATUS_FULLY_PROTECTED",
      userGroupUuid: "a1b2c3d4-0000-4000-8000-000000000002",
      cloudOfficeTenantReference: "7a0e5c3d-northwind",
      hasCloudOfficeMsLicense: "true",
      "activeProduct.id": "112",
      "activeProduct.name": "ESET_CLOUD_OFFICE_SECURITY",
      "activeProduct.autoActivated": "true",
      "activeProduct.autoActivationDetails.base": "PRODUCT_AUTO_ACTIVATION_BASE_USER_GROUP",
      "activeProduct.autoActivationDetails.userGroupUuid": "a1b2c3d4-0000-4000-8000-000000000002",
      "activeProduct.subscriptionUuid": DEMO.subscription,
      "activeProduct.unitPoolUuid": DEMO.unitPool,
      pageSize: "5",
    });
    // The activeProduct fields describe one product: Dave's product 7 was activated by hand, not automatically.
    const mixed = await stack.gql(EsetUserListDocument, {
      filter: { displayName: "Dave", activeProduct: { id: "7", autoActivated: true } },
      first: 5,
      after: null,
    });
    expect(mixed.body.data!.esetUserList!.edges).toEqual([]);
    expect(mixed.body.data!.esetUserList!.totalCount).toBe(0);
  });

  it("treats empty strings and nulls as no filter, the way ESET does", async () => {
    const res = await stack.gql(EsetUserListDocument, {
      filter: { displayName: "", email: null, activeProduct: {} },
      first: 1,
      after: null,
    });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data!.esetUserList!.totalCount).toBe(stack.sim.esetUsers.size);
    expect(listCalls(stack.sim)[0]!.path).toBe("/v1/users?pageSize=1");
  });

  it("answers first: 0 with the count and hasNextPage, for one call of one user", async () => {
    const res = await stack.gql(EsetUserListDocument, { filter: { protectionStatus: "UNPROTECTED" }, first: 0, after: null });
    expect(res.body.data!.esetUserList).toMatchObject({
      edges: [],
      totalCount: expected(stack.sim, (u) => status(u) === "PROTECTION_STATUS_UNPROTECTED").length,
      pageInfo: { hasNextPage: true, startCursor: null, endCursor: null },
    });
    expect(listCalls(stack.sim).map((r) => new URLSearchParams(r.path.split("?")[1]).get("pageSize"))).toEqual(["1"]);
  });

  it("reads ESET's int64 totalSize when it arrives as a string", async () => {
    stack.sim.int64AsString = true;
    const res = await stack.gql(EsetUserListDocument, { filter: { displayName: "Generated User 00001" }, first: 3, after: null });
    expect(res.body.data!.esetUserList!.totalCount).toBe(10);
  });

  it("uses the default page size of 50 when first is not given", async () => {
    const res = await stack.gql(EsetUserListDocument, { filter: null, first: null, after: null });
    expect(res.body.data!.esetUserList!.edges).toHaveLength(50);
  });

  it("prices a page of links like the vendor calls it would make, refusing a whole page of them before any call", async () => {
    const query = (first: number) =>
      JSON.stringify({
        query: `{ esetUserList(first: ${first}) { edges { node { uuid defenderLinks { strongestRule defenderUser { id } matchedOn { rule esetValue defenderValue } } } } } }`,
      });
    const whole = await stack.post(query(1000));
    expect(whole.status).toBe(400);
    expect(codes(whole)).toEqual(["OPERATION_LIMIT_EXCEEDED"]);
    // Worst-case vendor calls: 1 ESET page + 1000 users × 8 Defender candidates each. The README quotes these figures.
    expect(whole.body.errors![0]!.extensions!.problems).toEqual([
      "it may make 8000 Defender calls; the limit is 100 (MAX_DEFENDER_COST)",
      "its cost is 8001 vendor calls; the limit is 1100 (MAX_COST)",
    ]);
    expect(stack.sim.requests).toHaveLength(0);
    const plain = await stack.post(
      JSON.stringify({ query: "{ esetUserList(first: 1000) { edges { node { uuid displayName protectionStatus } } } }" }),
    );
    expect(plain.body.errors).toBeUndefined();
  });

  describe("refuses, with BAD_USER_INPUT and no vendor call", () => {
    let cursor: string;
    beforeAll(async () => {
      const res = await stack.gql(EsetUserListDocument, { filter: { protectionStatus: "UNPROTECTED" }, first: 3, after: null });
      cursor = res.body.data!.esetUserList!.pageInfo.endCursor!;
    });

    const [payloadOf, macOf] = [(c: string) => c.split(".")[0]!, (c: string) => c.split(".")[1]!];
    const tamper = (c: string) => {
      const data = JSON.parse(Buffer.from(payloadOf(c), "base64url").toString()) as { s: number };
      data.s += 1;
      return `${Buffer.from(JSON.stringify(data)).toString("base64url")}.${macOf(c)}`;
    };

    it.each([
      ["a malformed cursor", () => ({ filter: { protectionStatus: "UNPROTECTED" }, first: 3, after: "bm90IGEgY3Vyc29y" }), "after"],
      ["an altered cursor", () => ({ filter: { protectionStatus: "UNPROTECTED" }, first: 3, after: tamper(cursor) }), "after"],
      ["a cursor used with another filter", () => ({ filter: { protectionStatus: "PENDING" }, first: 3, after: cursor }), "after"],
      ["first above 1000", () => ({ filter: null, first: 1001, after: null }), "first"],
      ["a negative first", () => ({ filter: null, first: -1, after: null }), "first"],
      [
        "protectionStatus UNSPECIFIED (ESET would read it as no filter)",
        () => ({ filter: { protectionStatus: "UNSPECIFIED" }, first: 3, after: null }),
        "filter.protectionStatus",
      ],
      [
        "a product id beyond ESET's range",
        () => ({ filter: { activeProduct: { id: "100000" } }, first: 3, after: null }),
        "filter.activeProduct.id",
      ],
      ["a group uuid with a slash", () => ({ filter: { userGroupUuid: "a/../b" }, first: 3, after: null }), "filter.userGroupUuid"],
    ] as Array<[string, () => { filter: EsetUserFilter | null; first: number; after: string | null }, string]>)(
      "%s",
      async (_name, variables, argument) => {
        stack.sim.reset();
        const vars = variables();
        const res = await stack.gql(EsetUserListDocument, vars);
        expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
        expect(res.body.errors![0]!.extensions!.validationErrors).toEqual([{ argument, problems: [expect.any(String)] }]);
        if (vars.after) expect(res.text).not.toContain(vars.after);
        expect(stack.sim.requests).toHaveLength(0);
      },
    );
  });
});

describe("esetUserList cursors across a restart", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ extraEsetUsers: 600 });
  });
  afterAll(() => sim.close());

  it("continue on a new gateway: every user still exactly once", async () => {
    const filter = { email: "generated.example", hasCloudOfficeMsLicense: true };
    const want = expected(sim, (u) => String(u.primaryEmailAddress).includes("generated.example") && cloud(u).hasMsLicense === true);
    const before = await startGatewayOn(sim);
    const page = await before.gql(EsetUserListDocument, { filter, first: 100, after: null });
    const middle = page.body.data!.esetUserList!.edges[41]!.cursor;
    const end = page.body.data!.esetUserList!.pageInfo.endCursor;
    await before.close();

    const after = await startGatewayOn(sim);
    try {
      const rest = await pageAll(after, filter, 150, end);
      expect([...page.body.data!.esetUserList!.edges.map((e) => e.node!.uuid), ...rest.uuids]).toEqual(want);
      const fromMiddle = await pageAll(after, filter, 1000, middle);
      expect(fromMiddle.uuids).toEqual(want.slice(42));
    } finally {
      await after.close();
    }
  });
});

describe("esetUserList with the entity cache on", () => {
  let cached: Stack;
  beforeAll(async () => {
    cached = await startStack({ CACHE_TTL_SECONDS: "60" });
  });
  afterAll(() => cached.close());

  it("primes every listed user, so looking them up afterwards costs no vendor call", async () => {
    const list = await cached.gql(EsetUserListDocument, { filter: { email: "contoso" }, first: 20, after: null });
    const uuids = list.body.data!.esetUserList!.edges.map((e) => e.node!.uuid);
    expect(uuids.length).toBeGreaterThan(5);
    cached.sim.reset();
    const one = await cached.gql(EsetUserDocument, { uuid: uuids[3]! });
    expect(one.body.data?.esetUser?.uuid).toBe(uuids[3]);
    const many = await cached.gql(EsetUsersDocument, { uuids });
    expect(many.body.data?.esetUsers?.map((u) => u?.uuid)).toEqual(uuids);
    expect(cached.sim.count({ kind: "api" })).toBe(0);
  });
});

describe("esetUserList and scopes", () => {
  let authed: Stack;
  const DEFENDER_ONLY = "defender-only-key-list-8e4a1c6f0b2d";
  beforeAll(async () => {
    authed = await startStack({ AUTH_MODE: "", AUTH_API_KEYS: `full-access-key-list-5f2c9a7e1b3d,${DEFENDER_ONLY}=defender:users:read` });
  });
  afterAll(() => authed.close());

  it("refuses a caller without eset:users:read with FORBIDDEN and calls nobody", async () => {
    const res = await authed.gql(EsetUserListDocument, { filter: null, first: 5, after: null }, { "x-api-key": DEFENDER_ONLY });
    expect(codes(res)).toEqual(["FORBIDDEN"]);
    expect(res.body.errors![0]!.extensions).toMatchObject({ source: "ESET", requiredScope: "eset:users:read" });
    expect(authed.sim.count({ kind: "api" })).toBe(0);
  });
});
