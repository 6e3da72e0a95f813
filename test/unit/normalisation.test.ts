import { GraphQLError } from "graphql";
import { toDefenderUser } from "../../src/sources/defender/users/user.mapper";
import { toEsetUser } from "../../src/sources/eset/users/user.mapper";
import { parseJsonLossless } from "../../src/upstream/lossless-json";
import { encodePathSegment } from "../../src/upstream/path";
import { parseRetryAfter } from "../../src/upstream/retry-policy";

const noReport = () => {};

describe("Defender normalisation", () => {
  it("splits a comma-separated logonTypes string into a list", () => {
    expect(toDefenderUser({ id: "u", logonTypes: "Network, RemoteInteractive" }).logonTypes).toEqual(["Network", "RemoteInteractive"]);
    expect(toDefenderUser({ id: "u", logonTypes: "Interactive" }).logonTypes).toEqual(["Interactive"]);
    expect(toDefenderUser({ id: "u", logonTypes: " Network ,, Batch " }).logonTypes).toEqual(["Network", "Batch"]);
    expect(toDefenderUser({ id: "u", logonTypes: "" }).logonTypes).toEqual([]);
    expect(toDefenderUser({ id: "u" }).logonTypes).toEqual([]);
  });

  it("turns every missing, null or empty field into null, keeping the key", () => {
    const user = toDefenderUser({ id: "user1", accountName: "", accountSid: null });
    expect(user).toEqual({
      id: "user1",
      accountName: null,
      accountDomain: null,
      accountSid: null,
      firstSeen: null,
      lastSeen: null,
      mostPrevalentMachineId: null,
      leastPrevalentMachineId: null,
      logonTypes: [],
      logOnMachinesCount: null,
      isDomainAdmin: null,
      isOnlyNetworkUser: null,
    });
  });

  it("reads accountDomain from the older wire name accountDomainName", () => {
    expect(toDefenderUser({ id: "u", accountDomainName: "fabrikam" }).accountDomain).toBe("fabrikam");
    expect(toDefenderUser({ id: "u", accountDomain: "contoso", accountDomainName: "old" }).accountDomain).toBe("contoso");
  });

  it("parses timestamps and drops unparsable ones", () => {
    expect(toDefenderUser({ id: "u", firstSeen: "2019-12-08T06:33:39Z" }).firstSeen?.toISOString()).toBe("2019-12-08T06:33:39.000Z");
    expect(toDefenderUser({ id: "u", firstSeen: "yesterday" }).firstSeen).toBeNull();
  });

  it("accepts the string booleans and numeric strings some fixtures show", () => {
    const wire = { id: "u", isDomainAdmin: "false", logOnMachinesCount: "3" } as unknown as Parameters<typeof toDefenderUser>[0];
    const user = toDefenderUser(wire);
    expect(user.isDomainAdmin).toBe(false);
    expect(user.logOnMachinesCount).toBe(3);
  });
});

describe("ESET normalisation", () => {
  it("drops enum prefixes and fixes ESET's EMAIL_ADDRES spelling", () => {
    const user = toEsetUser(
      {
        uuid: "u",
        protectionStatus: "PROTECTION_STATUS_PARTIALLY_PROTECTED",
        identities: [{ providerReferenceFormat: "IDENTITY_REFERENCE_FORMAT_EMAIL_ADDRES", providerType: "IDENTITY_PROVIDER_TYPE_GOOGLE" }],
      },
      noReport,
    );
    expect(user.protectionStatus).toBe("PARTIALLY_PROTECTED");
    expect(user.identities[0]).toMatchObject({ providerReferenceFormat: "EMAIL_ADDRESS", providerType: "GOOGLE" });
  });

  it("serves an unknown enum value as UNSPECIFIED and reports it", () => {
    const reported: string[] = [];
    const user = toEsetUser(
      { uuid: "u", protectionStatus: "PROTECTION_STATUS_QUARANTINED", identities: [{ providerType: "IDENTITY_PROVIDER_TYPE_APPLE" }] },
      (name, value) => reported.push(`${name}=${value}`),
    );
    expect(user.protectionStatus).toBe("UNSPECIFIED");
    expect(user.identities[0]?.providerType).toBe("UNSPECIFIED");
    expect(reported.sort()).toEqual([
      "IdentityProviderType=IDENTITY_PROVIDER_TYPE_APPLE",
      "ProtectionStatus=PROTECTION_STATUS_QUARANTINED",
    ]);
  });

  it("treats absent and empty enum values as UNSPECIFIED without reporting them", () => {
    const reported: string[] = [];
    const user = toEsetUser({ uuid: "u", protectionStatus: "", identities: [{}] }, (n) => reported.push(n));
    expect(user.protectionStatus).toBe("UNSPECIFIED");
    expect(user.identities[0]).toEqual({
      userName: null,
      providerReference: null,
      providerReferenceFormat: "UNSPECIFIED",
      providerType: "UNSPECIFIED",
      createTime: null,
      updateTime: null,
    });
    expect(reported).toEqual([]);
  });

  it("turns empty timestamps into null", () => {
    const user = toEsetUser({ uuid: "u", identities: [{ createTime: "", updateTime: "2024-01-22T10:30:00Z" }] }, noReport);
    expect(user.identities[0]?.createTime).toBeNull();
    expect(user.identities[0]?.updateTime?.toISOString()).toBe("2024-01-22T10:30:00.000Z");
  });

  it("keeps int64 product ids exact as decimal strings, from numbers or strings", () => {
    const body = parseJsonLossless('{"user":{"uuid":"u","activeProductIds":[9007199254740993, "9223372036854775807", 7, "007"]}}') as {
      user: Parameters<typeof toEsetUser>[0];
    };
    expect(toEsetUser(body.user, noReport).activeProductIds).toEqual(["9007199254740993", "9223372036854775807", "7", "7"]);
  });

  it("gives empty lists and a null cloudOffice for a user with only a uuid", () => {
    expect(toEsetUser({ uuid: "only" }, noReport)).toEqual({
      uuid: "only",
      displayName: null,
      primaryEmailAddress: null,
      proxyEmailAddresses: [],
      phoneNumbers: [],
      department: null,
      jobTitle: null,
      officeLocation: null,
      identities: [],
      cloudOffice: null,
      protectionStatus: "UNSPECIFIED",
      activeProductIds: [],
      userGroupUuids: [],
    });
  });

  it("drops empty strings from string lists", () => {
    expect(toEsetUser({ uuid: "u", proxyEmailAddresses: ["", "a@b.c"] }, noReport).proxyEmailAddresses).toEqual(["a@b.c"]);
  });
});

describe("lossless JSON", () => {
  it("leaves safe numbers, strings that look like numbers and escapes alone", () => {
    const text = '{"a":1,"b":-2.5e3,"c":"9007199254740993 in a string","d":"quote \\" 12345678901234567890","e":[1e21]}';
    expect(parseJsonLossless(text)).toEqual(JSON.parse(text));
  });

  it("turns integers beyond 2^53 into exact strings, including negative ones", () => {
    expect(parseJsonLossless("[9007199254740993,-9007199254740993,9007199254740991]")).toEqual([
      "9007199254740993",
      "-9007199254740993",
      9007199254740991,
    ]);
  });
});

describe("path encoding", () => {
  it.each([
    ["contoso\\alice", "contoso%5Calice"],
    ["../x", "..%2Fx"],
    ["..", "%2E%2E"],
    ["a b?#", "a%20b%3F%23"],
  ])("encodes %j as one segment %j", (id, encoded) => {
    expect(encodePathSegment(id)).toBe(encoded);
  });

  it.each(["a\ud800b", "\udfff", "x\ud83d"])("refuses %j (a lone surrogate) as the client's input, never with a URIError", (id) => {
    let thrown: unknown;
    try {
      encodePathSegment(id);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(GraphQLError);
    expect((thrown as GraphQLError).extensions.code).toBe("BAD_USER_INPUT");
    expect((thrown as GraphQLError).message).toBe(
      "The id is not well-formed Unicode (it has a lone UTF-16 surrogate), so usergraph cannot send it to the vendor.",
    );
  });

  it("encodes a surrogate pair as its UTF-8 bytes", () => {
    expect(encodePathSegment("\u{1F600}")).toBe("%F0%9F%98%80");
  });
});

describe("Retry-After", () => {
  it("reads seconds and HTTP dates, and ignores garbage", () => {
    const now = Date.parse("2026-11-23T10:00:00Z");
    expect(parseRetryAfter("7", now)).toBe(7000);
    expect(parseRetryAfter("Mon, 23 Nov 2026 10:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Mon, 23 Nov 2026 09:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
