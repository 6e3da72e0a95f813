/**
 * Demo users for the simulator: a few dozen per product, deterministic, shaped like the vendors' documented
 * examples and the quirks UPSTREAMS.md records (domain\user ids, multi-value logonTypes, the older
 * accountDomainName, null fields, "" timestamps, int64 product ids beyond 2^53, every enum value, an opaque
 * non-RFC uuid). ESET users share people with Defender accounts so cross-product links have something to find.
 */

export type WireObject = Record<string, unknown>;

/** Ids the README, the banner and the tests refer to. */
export const DEMO = {
  defenderAlice: "contoso\\alice",
  defenderUser1: "user1",
  esetAlice: "6f0d6c2e-3b5a-4b8e-9d3c-1a2b3c4d5e6f",
  esetBob: "0b7e2a1c-4d3f-4e5a-8b6c-7d8e9f0a1b2c",
  esetOpaque: "usr_01HZX3K9A7ECONNECT",
  bigProductId: 9007199254740993n,
  tenant: "3c8e1a5b-6f2d-4c7e-9a1b-2d3e4f5a6b7c",
  // People who exercise the link rules (README: "Lists, links and the person view").
  /** UPN user1@contoso.com: UPN link to contoso\user1, BARE_USER_NAME link to user1. */
  esetUserOne: "e5e70001-7a1c-4c2b-9f00-00000000a001",
  /** UPN user10@contoso.com: the near miss of user1, linked only to contoso\user10. */
  esetUserTen: "e5e70001-7a1c-4c2b-9f00-00000000a010",
  /** poweruser1@contoso.com: ESET's substring filter returns it for "user1@contoso."; usergraph must drop it. */
  esetPowerUser: "e5e70001-7a1c-4c2b-9f00-00000000a0ff",
  /** Proxy address cjones@fabrikam.com: EMAIL link to the legacy logon fabrikam\cjones. */
  esetCarol: "e5e70001-7a1c-4c2b-9f00-00000000c001",
  /** USER_NAME identity CORP\dmiller (NetBIOS name unlike the mail domain): DOMAIN_USER link, found from ESET only. */
  esetDave: "e5e70001-7a1c-4c2b-9f00-00000000d001",
  /** Known to ESET only. */
  esetErin: "e5e70001-7a1c-4c2b-9f00-00000000e001",
  /** An Entra guest: its #EXT# UPN names no account of this directory. */
  esetGuest: "e5e70001-7a1c-4c2b-9f00-00000000f001",
  defenderContosoUser1: "contoso\\user1",
  defenderUser10: "contoso\\user10",
  defenderCjones: "fabrikam\\cjones",
  defenderDmiller: "corp\\dmiller",
  /** Known to Defender only (a service account). */
  defenderSvcBackup: "contoso\\svc-backup",
  /** What the simulator reports behind activeProductIds, for the activeProduct.* list filters. */
  subscription: "5b0c0000-0000-4000-8000-0000000000a1",
  subscriptionPlus: "5b0c0000-0000-4000-8000-0000000000a2",
  unitPool: "9d1e0000-0000-4000-8000-0000000000b1",
} as const;

/** Enumeration-style product names (activeProduct.name) the simulator gives the demo product ids. Invented. */
export const DEMO_PRODUCT_NAMES: Readonly<Record<string, string>> = {
  "7": "ESET_ENDPOINT_SECURITY",
  "112": "ESET_CLOUD_OFFICE_SECURITY",
  [String(9007199254740993n)]: "ESET_INSPECT",
};

/** The simulator's view of one v1ActiveUserProduct behind a user's activeProductIds (not part of v1User). */
export interface DemoActiveProduct {
  id: string;
  name: string;
  autoActivated: boolean;
  base: string;
  userGroupUuid?: string;
  subscriptionUuid: string;
  unitPoolUuid: string;
}

/**
 * How each of a user's products was activated, derived from the user so it needs no extra data: even ids
 * were activated automatically (through the user's first group, else tenant-wide), odd ids by hand; ids
 * below 200 use one subscription, the rest another; everything comes from one unit pool.
 */
export function activeProductsOf(user: WireObject): DemoActiveProduct[] {
  const ids = Array.isArray(user.activeProductIds) ? user.activeProductIds.map(String) : [];
  const group = Array.isArray(user.userGroupUuids) ? (user.userGroupUuids[0] as string | undefined) : undefined;
  const tenant = (user.cloudOffice as WireObject | undefined)?.tenantReference;
  return ids.map((id) => {
    const auto = BigInt(id) % 2n === 0n && (group !== undefined || tenant !== undefined);
    return {
      id,
      name: DEMO_PRODUCT_NAMES[id] ?? `PRODUCT_${id}`,
      autoActivated: auto,
      base: !auto
        ? "PRODUCT_AUTO_ACTIVATION_BASE_UNSPECIFIED"
        : group !== undefined
          ? "PRODUCT_AUTO_ACTIVATION_BASE_USER_GROUP"
          : "PRODUCT_AUTO_ACTIVATION_BASE_TENANT",
      userGroupUuid: auto ? group : undefined,
      subscriptionUuid: BigInt(id) < 200n ? DEMO.subscription : DEMO.subscriptionPlus,
      unitPoolUuid: DEMO.unitPool,
    };
  });
}

const FIRST = [
  "olivia",
  "liam",
  "emma",
  "noah",
  "ava",
  "elijah",
  "sofia",
  "lucas",
  "mia",
  "mateo",
  "amelia",
  "leo",
  "isla",
  "hugo",
  "nora",
  "felix",
  "zoe",
  "oscar",
  "lena",
  "max",
  "iris",
  "theo",
  "ada",
  "jonas",
];
const LAST = ["novak", "svoboda", "horvat", "kowalski", "muller", "dubois", "rossi", "garcia", "jensen", "smith", "tanaka", "silva"];
const DEPARTMENTS = ["Finance", "Engineering", "Sales", "Security Operations", "Legal", "Human Resources"];
const TITLES = ["Analyst", "Engineer", "Manager", "Director", "Consultant", "Administrator"];
const OFFICES = ["Bratislava HQ", "Berlin", "Remote", "New York", "Toronto"];
const LOGON_TYPES = [
  "Network",
  "Interactive",
  "RemoteInteractive",
  "CachedInteractive",
  "Batch",
  "Service",
  "Unlock",
  "NetworkCleartext",
  "NewCredentials",
];
const PROTECTION = [
  "PROTECTION_STATUS_UNPROTECTED",
  "PROTECTION_STATUS_PENDING",
  "PROTECTION_STATUS_PARTIALLY_PROTECTED",
  "PROTECTION_STATUS_FULLY_PROTECTED",
];

/** mulberry32: a tiny seeded PRNG, so every run serves the same demo data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hex(rand: () => number, length: number): string {
  let s = "";
  while (s.length < length) s += Math.floor(rand() * 16).toString(16);
  return s;
}

function uuid(rand: () => number): string {
  const h = hex(rand, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${"89ab"[Math.floor(rand() * 4)]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function isoDay(rand: () => number, fromYear: number): string {
  const start = Date.UTC(fromYear, 0, 1);
  const t = start + Math.floor(rand() * 365 * 2) * 86_400_000 + Math.floor(rand() * 86_400) * 1000;
  return new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

export interface DemoData {
  defender: WireObject[];
  eset: WireObject[];
}

export function demoData(): DemoData {
  const rand = prng(20261123);
  const defender: WireObject[] = [
    // Verbatim from "Get user information API" (seeds/defender-get-user.md): fewer fields, nulls.
    {
      id: DEMO.defenderUser1,
      firstSeen: "2018-08-02T00:00:00Z",
      lastSeen: "2018-08-04T00:00:00Z",
      mostPrevalentMachineId: null,
      leastPrevalentMachineId: null,
      logonTypes: "Network",
      logOnMachinesCount: 3,
      isDomainAdmin: false,
      isOnlyNetworkUser: null,
    },
    // The richer shape of GET /api/alerts/{id}/user.
    {
      id: "contoso\\user1",
      accountName: "user1",
      accountDomain: "contoso",
      accountSid: "S-1-5-21-72051607-1745760036-109187956-93922",
      firstSeen: "2019-12-08T06:33:39Z",
      lastSeen: "2020-01-05T06:58:34Z",
      mostPrevalentMachineId: "0111b647235c26159bec3e5eb6c8c3a0cc3ab766",
      leastPrevalentMachineId: "0111b647235c26159bec3e5eb6c8c3a0cc3ab766",
      logonTypes: "Network",
      logOnMachinesCount: 1,
      isDomainAdmin: false,
      isOnlyNetworkUser: false,
    },
    {
      id: DEMO.defenderAlice,
      accountName: "alice",
      accountDomain: "contoso",
      accountSid: "S-1-5-21-72051607-1745760036-109187956-1104",
      firstSeen: "2024-03-11T08:12:45Z",
      lastSeen: "2026-11-20T17:03:09Z",
      mostPrevalentMachineId: "7f3a9c1e5b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a",
      leastPrevalentMachineId: "c4e6a8b0d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2",
      logonTypes: "Network, RemoteInteractive",
      logOnMachinesCount: 4,
      isDomainAdmin: false,
      isOnlyNetworkUser: false,
    },
    // The early-preview wire name accountDomainName instead of accountDomain.
    {
      id: "fabrikam\\bob",
      accountName: "bob",
      accountDomainName: "fabrikam",
      accountSid: "S-1-5-21-3623811015-3361044348-30300820-1013",
      firstSeen: "2023-06-01T09:00:00Z",
      lastSeen: "2026-11-22T23:59:59Z",
      mostPrevalentMachineId: "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d",
      leastPrevalentMachineId: "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
      logonTypes: "Interactive, Network, RemoteInteractive, CachedInteractive",
      logOnMachinesCount: 12,
      isDomainAdmin: true,
      isOnlyNetworkUser: false,
    },
    // JupiterOne's recorded logonusers snapshot: most fields null.
    {
      id: "testmachine1\\administrator1",
      accountName: "administrator1",
      accountDomain: "testmachine1",
      accountSid: null,
      firstSeen: "2021-01-13T09:03:18Z",
      lastSeen: "2021-01-13T09:03:18Z",
      mostPrevalentMachineId: null,
      leastPrevalentMachineId: null,
      logonTypes: "Interactive",
      logOnMachinesCount: null,
      isDomainAdmin: true,
      isOnlyNetworkUser: null,
    },
    // A service account that only ever logs on over the network.
    {
      id: "contoso\\svc-backup",
      accountName: "svc-backup",
      accountDomain: "contoso",
      accountSid: "S-1-5-21-72051607-1745760036-109187956-2201",
      firstSeen: "2022-02-02T02:02:02Z",
      lastSeen: "2026-11-23T01:00:00Z",
      mostPrevalentMachineId: "aa11bb22cc33dd44ee55ff66aa77bb88cc99dd00",
      leastPrevalentMachineId: "aa11bb22cc33dd44ee55ff66aa77bb88cc99dd00",
      logonTypes: "Network, Batch, Service",
      logOnMachinesCount: 1,
      isDomainAdmin: false,
      isOnlyNetworkUser: true,
    },
  ];

  const eset: WireObject[] = [
    {
      uuid: DEMO.esetAlice,
      displayName: "Alice Example",
      primaryEmailAddress: "alice@contoso.com",
      proxyEmailAddresses: ["alice.example@contoso.com", "a.example@contoso.onmicrosoft.com"],
      phoneNumbers: ["+421900123456"],
      department: "Security Operations",
      jobTitle: "SOC Analyst",
      officeLocation: "Bratislava HQ",
      identities: [
        {
          createTime: "2024-03-11T08:00:00Z",
          updateTime: "2026-10-01T12:30:00Z",
          providerReference: "alice@contoso.com",
          providerReferenceFormat: "IDENTITY_REFERENCE_FORMAT_USER_PRINCIPAL_NAME",
          providerType: "IDENTITY_PROVIDER_TYPE_MICROSOFT",
          userName: "alice@contoso.com",
        },
        {
          // ESET: "Empty if the timestamp is unknown."
          createTime: "",
          updateTime: "",
          providerReference: "contoso\\alice",
          providerReferenceFormat: "IDENTITY_REFERENCE_FORMAT_USER_NAME",
          providerType: "IDENTITY_PROVIDER_TYPE_LOCAL",
          userName: "contoso\\alice",
        },
      ],
      cloudOffice: { hasMsLicense: true, tenantReference: DEMO.tenant },
      protectionStatus: "PROTECTION_STATUS_FULLY_PROTECTED",
      activeProductIds: [DEMO.bigProductId, 112n],
      userGroupUuids: ["a1b2c3d4-0000-4000-8000-000000000001"],
    },
    {
      uuid: DEMO.esetBob,
      displayName: "Bob Fabrikam",
      primaryEmailAddress: "bob@fabrikam.com",
      proxyEmailAddresses: [],
      phoneNumbers: [],
      department: "Engineering",
      jobTitle: "Domain Administrator",
      officeLocation: "Remote",
      identities: [
        {
          createTime: "2023-06-01T09:00:00Z",
          updateTime: "2023-06-01T09:00:00Z",
          providerReference: "bob@fabrikam.com",
          providerReferenceFormat: "IDENTITY_REFERENCE_FORMAT_EMAIL_ADDRES",
          providerType: "IDENTITY_PROVIDER_TYPE_GOOGLE",
          userName: "bob@fabrikam.com",
        },
        {
          createTime: "2023-06-01T09:00:00Z",
          updateTime: "",
          providerReference: "+14165550123",
          providerReferenceFormat: "IDENTITY_REFERENCE_FORMAT_PHONE_NUMBER",
          providerType: "IDENTITY_PROVIDER_TYPE_FACEBOOK",
          userName: "",
        },
      ],
      cloudOffice: { hasMsLicense: false, tenantReference: "C03abc9de" },
      protectionStatus: "PROTECTION_STATUS_PARTIALLY_PROTECTED",
      activeProductIds: [7n],
      userGroupUuids: [],
    },
    {
      // An opaque id that is not an RFC UUID, a federated identity, and defaults left out (grpc-gateway
      // omits empty fields): no cloudOffice, no protection status.
      uuid: DEMO.esetOpaque,
      displayName: "Kiosk Reception",
      identities: [
        {
          providerReference: "urn:federation:contoso:kiosk-17",
          providerReferenceFormat: "IDENTITY_REFERENCE_FORMAT_FEDERATED",
          providerType: "IDENTITY_PROVIDER_TYPE_UNSPECIFIED",
        },
        { providerReference: "kiosk17", providerReferenceFormat: "IDENTITY_REFERENCE_FORMAT_UNSPECIFIED" },
      ],
    },
  ];

  // Generated people who exist in both products under the same name.
  const used = new Set<string>();
  for (let i = 0; eset.length < 36; i++) {
    const first = pick(rand, FIRST);
    const last = pick(rand, LAST);
    const login = `${first}.${last}`;
    if (used.has(login)) continue;
    used.add(login);
    const domain = i % 3 === 0 ? "fabrikam" : "contoso";
    const upn = `${login}@${domain}.com`;
    const display = `${cap(first)} ${cap(last)}`;
    if (i % 4 !== 3) {
      const logons = [...new Set([pick(rand, LOGON_TYPES), pick(rand, LOGON_TYPES), "Network"])].slice(0, 1 + (i % 3));
      defender.push({
        id: `${domain}\\${login}`,
        accountName: login,
        accountDomain: domain,
        accountSid: `S-1-5-21-72051607-1745760036-109187956-${3000 + i}`,
        firstSeen: isoDay(rand, 2023),
        lastSeen: isoDay(rand, 2025),
        mostPrevalentMachineId: hex(rand, 40),
        leastPrevalentMachineId: i % 5 === 0 ? null : hex(rand, 40),
        logonTypes: logons.join(", "),
        logOnMachinesCount: 1 + Math.floor(rand() * 9),
        isDomainAdmin: i % 11 === 0,
        isOnlyNetworkUser: i % 7 === 0 ? null : false,
      });
    }
    eset.push({
      uuid: uuid(rand),
      displayName: display,
      primaryEmailAddress: upn,
      proxyEmailAddresses: i % 2 === 0 ? [`${first[0]}.${last}@${domain}.com`] : [],
      phoneNumbers: i % 5 === 0 ? [`+42190${String(1000000 + i).slice(1)}`] : [],
      department: pick(rand, DEPARTMENTS),
      jobTitle: pick(rand, TITLES),
      officeLocation: i % 6 === 0 ? "" : pick(rand, OFFICES),
      identities: [
        {
          createTime: isoDay(rand, 2022),
          updateTime: i % 4 === 0 ? "" : isoDay(rand, 2025),
          providerReference: upn,
          providerReferenceFormat: i % 2 === 0 ? "IDENTITY_REFERENCE_FORMAT_USER_PRINCIPAL_NAME" : "IDENTITY_REFERENCE_FORMAT_EMAIL_ADDRES",
          providerType: "IDENTITY_PROVIDER_TYPE_MICROSOFT",
          userName: upn,
        },
        ...(i % 3 === 1
          ? [
              {
                createTime: "",
                updateTime: "",
                providerReference: `${domain}\\${login}`,
                providerReferenceFormat: "IDENTITY_REFERENCE_FORMAT_USER_NAME",
                providerType: "IDENTITY_PROVIDER_TYPE_LOCAL",
                userName: `${domain}\\${login}`,
              },
            ]
          : []),
      ],
      cloudOffice: { hasMsLicense: i % 5 !== 4, tenantReference: DEMO.tenant },
      protectionStatus: PROTECTION[i % PROTECTION.length],
      activeProductIds: i % 4 === 0 ? [] : [BigInt(100 + (i % 7)), BigInt(200 + (i % 3))],
      userGroupUuids: [`a1b2c3d4-0000-4000-8000-00000000000${1 + (i % 3)}`],
    });
  }
  linkPeople(defender, eset);
  return { defender, eset };
}

/**
 * The people the link tests and the README's examples use, one per rule and per blind spot. Appended after
 * the generated people, so those stay as they were.
 */
function linkPeople(defender: WireObject[], eset: WireObject[]): void {
  const upn = (value: string, createTime = "2024-05-02T08:00:00Z") => ({
    createTime,
    updateTime: "",
    providerReference: value,
    providerReferenceFormat: "IDENTITY_REFERENCE_FORMAT_USER_PRINCIPAL_NAME",
    providerType: "IDENTITY_PROVIDER_TYPE_MICROSOFT",
    userName: value,
  });
  const account = (id: string, sid: number, extra: WireObject = {}): WireObject => {
    const [domain, name] = id.split("\\") as [string, string];
    return {
      id,
      accountName: name,
      accountDomain: domain,
      accountSid: `S-1-5-21-72051607-1745760036-109187956-${sid}`,
      firstSeen: "2024-05-02T08:10:00Z",
      lastSeen: "2026-11-21T09:30:00Z",
      mostPrevalentMachineId: "5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80",
      leastPrevalentMachineId: "5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80",
      logonTypes: "Interactive, Network",
      logOnMachinesCount: 1,
      isDomainAdmin: false,
      isOnlyNetworkUser: false,
      ...extra,
    };
  };
  const person = (uuid: string, displayName: string, mail: string, rest: WireObject): WireObject => ({
    uuid,
    displayName,
    primaryEmailAddress: mail,
    proxyEmailAddresses: [],
    phoneNumbers: [],
    department: "Finance",
    jobTitle: "Analyst",
    officeLocation: "Berlin",
    identities: [upn(mail)],
    cloudOffice: { hasMsLicense: true, tenantReference: DEMO.tenant },
    protectionStatus: "PROTECTION_STATUS_UNPROTECTED",
    activeProductIds: [],
    userGroupUuids: [],
    ...rest,
  });
  defender.push(
    account(DEMO.defenderUser10, 5010),
    // A legacy short logon name, reachable from ESET only through the proxy address.
    account(DEMO.defenderCjones, 5020, { accountDomain: "fabrikam", logonTypes: "RemoteInteractive" }),
    // The AD domain's NetBIOS name (CORP) is not the mail domain's first label (northwind).
    account(DEMO.defenderDmiller, 5030, { isDomainAdmin: true }),
  );
  eset.push(
    person(DEMO.esetUserOne, "User One", "user1@contoso.com", {}),
    person(DEMO.esetUserTen, "User Ten", "user10@contoso.com", {
      protectionStatus: "PROTECTION_STATUS_FULLY_PROTECTED",
      activeProductIds: [112n],
    }),
    person(DEMO.esetPowerUser, "Power User One", "poweruser1@contoso.com", { department: "Engineering" }),
    person(DEMO.esetCarol, "Carol Jones", "carol.jones@fabrikam.com", {
      proxyEmailAddresses: ["smtp:cjones@fabrikam.com"],
      cloudOffice: { hasMsLicense: false, tenantReference: "C03abc9de" },
      protectionStatus: "PROTECTION_STATUS_PENDING",
    }),
    person(DEMO.esetDave, "Dave Miller", "dave.miller@northwind.example", {
      identities: [
        upn("dave.miller@northwind.example"),
        {
          createTime: "",
          updateTime: "",
          providerReference: "CORP\\dmiller",
          providerReferenceFormat: "IDENTITY_REFERENCE_FORMAT_USER_NAME",
          providerType: "IDENTITY_PROVIDER_TYPE_LOCAL",
          userName: "CORP\\dmiller",
        },
      ],
      cloudOffice: { hasMsLicense: true, tenantReference: "7a0e5c3d-northwind" },
      protectionStatus: "PROTECTION_STATUS_FULLY_PROTECTED",
      activeProductIds: [7n, 112n],
      userGroupUuids: ["a1b2c3d4-0000-4000-8000-000000000002"],
    }),
    person(DEMO.esetErin, "Erin Only", "erin@contoso.com", { protectionStatus: "PROTECTION_STATUS_PARTIALLY_PROTECTED" }),
    person(DEMO.esetGuest, "Frank Partner (guest)", "frank@partner.example", {
      identities: [upn("frank_partner.example#EXT#@contoso.onmicrosoft.com")],
      cloudOffice: { hasMsLicense: false, tenantReference: DEMO.tenant },
    }),
  );
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
