import { DefenderUserDocument, EsetUserDocument } from "../__generated__/operations";
import { DEMO } from "../../src/simulator/demo-data";
import { startStack, type Stack } from "../helpers/stack";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());
beforeEach(() => stack.sim.reset());

describe("normalisation end to end", () => {
  it("serves Defender's documented example with its nulls and a one-item logonTypes", async () => {
    const res = await stack.gql(DefenderUserDocument, { id: DEMO.defenderUser1 });
    expect(res.body.data?.defenderUser).toEqual({
      id: "user1",
      accountName: null,
      accountDomain: null,
      accountSid: null,
      firstSeen: "2018-08-02T00:00:00.000Z",
      lastSeen: "2018-08-04T00:00:00.000Z",
      mostPrevalentMachineId: null,
      leastPrevalentMachineId: null,
      logonTypes: ["Network"],
      logOnMachinesCount: 3,
      isDomainAdmin: false,
      isOnlyNetworkUser: null,
    });
  });

  it("keeps 9007199254740993 exact whether ESET sends it as a number or a string", async () => {
    const asNumber = await stack.gql(EsetUserDocument, { uuid: DEMO.esetAlice });
    expect(stack.sim.requests.at(-1)?.status).toBe(200);
    expect(asNumber.body.data?.esetUser?.activeProductIds).toEqual(["9007199254740993", "112"]);
    stack.sim.int64AsString = true;
    const asString = await stack.gql(EsetUserDocument, { uuid: DEMO.esetAlice });
    expect(asString.body.data?.esetUser?.activeProductIds).toEqual(["9007199254740993", "112"]);
  });

  it("serves empty identity timestamps as null and fixes EMAIL_ADDRES", async () => {
    const res = await stack.gql(EsetUserDocument, { uuid: DEMO.esetBob });
    const identities = res.body.data?.esetUser?.identities;
    expect(identities?.[0]).toMatchObject({ providerReferenceFormat: "EMAIL_ADDRESS", providerType: "GOOGLE" });
    expect(identities?.[1]).toMatchObject({
      providerReferenceFormat: "PHONE_NUMBER",
      providerType: "FACEBOOK",
      updateTime: null,
      userName: null,
    });
  });

  it("serves an unknown enum value as UNSPECIFIED and logs it once, not as an error", async () => {
    stack.sim.esetUsers.set("new-enum-user", {
      uuid: "new-enum-user",
      protectionStatus: "PROTECTION_STATUS_SOMETHING_NEW",
      identities: [{ providerType: "IDENTITY_PROVIDER_TYPE_APPLE", providerReferenceFormat: "IDENTITY_REFERENCE_FORMAT_PASSKEY" }],
    });
    for (let i = 0; i < 3; i++) {
      const res = await stack.gql(EsetUserDocument, { uuid: "new-enum-user" });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data?.esetUser).toMatchObject({
        protectionStatus: "UNSPECIFIED",
        identities: [{ providerType: "UNSPECIFIED", providerReferenceFormat: "UNSPECIFIED" }],
      });
    }
    const warnings = stack.logs.entries().filter((e) => e.wireValue === "PROTECTION_STATUS_SOMETHING_NEW");
    expect(warnings).toHaveLength(1);
    expect(stack.logs.entries().filter((e) => e.wireValue === "IDENTITY_PROVIDER_TYPE_APPLE")).toHaveLength(1);
  });

  it("serves an opaque, non-RFC ESET uuid and a user whose defaults were left out", async () => {
    const res = await stack.gql(EsetUserDocument, { uuid: DEMO.esetOpaque });
    expect(res.body.data?.esetUser).toMatchObject({
      uuid: DEMO.esetOpaque,
      cloudOffice: null,
      protectionStatus: "UNSPECIFIED",
      proxyEmailAddresses: [],
      activeProductIds: [],
      identities: [
        { providerReferenceFormat: "FEDERATED", providerType: "UNSPECIFIED", createTime: null },
        { providerReferenceFormat: "UNSPECIFIED", providerType: "UNSPECIFIED" },
      ],
    });
  });
});
