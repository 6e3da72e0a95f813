/**
 * The demo's second customer, Woodgrove Bank (tenant `woodgrove`, docs/tenants.md "Trying it in the demo"):
 * a simulator started with `dataset: "woodgrove"` serves these instead of Contoso's users (demo-data.ts)
 * and relations (defender-relations.ts). A handful of people of another company, with names, domains,
 * machine ids, alert ids and ESET uuids that none of Contoso's share, so a reader sees at a glance which
 * customer an answer came from, and a test can tell that one never reached the other's callers.
 *
 * The story: hana.lee's laptop has a High alert from yesterday while ESET says she is unprotected (the
 * coverage gap); marco.rossi has a Medium alert in progress on the teller server; priya.natarajan (domain
 * admin) an old Low one, resolved; the teller service account is known to Defender only; sam.okafor to
 * ESET only.
 */
import { alert, before, DAY, HOUR, machine, times, userEvidence, type DefenderRelations } from "./defender-relations";
import type { WireObject } from "./demo-data";

/** Ids the tests and docs refer to. */
export const WOODGROVE = {
  defenderHana: "woodgrove\\hlee",
  defenderMarco: "woodgrove\\mrossi",
  defenderPriya: "woodgrove\\pnatarajan",
  defenderTellerService: "woodgrove\\svc-teller",
  esetHana: "3f9a0c1e-6b2d-4e8f-a1c3-00000000a001",
  esetMarco: "3f9a0c1e-6b2d-4e8f-a1c3-00000000a002",
  esetPriya: "3f9a0c1e-6b2d-4e8f-a1c3-00000000a003",
  esetSam: "3f9a0c1e-6b2d-4e8f-a1c3-00000000a004",
  machineHanaLaptop: "b0a1c2d3e4f5061728394a5b6c7d8e9f00a1b2c3",
  machineTellerServer: "b0a1c2d3e4f5061728394a5b6c7d8e9f00a1b2c4",
  machineCore: "b0a1c2d3e4f5061728394a5b6c7d8e9f00a1b2c5",
  machineMarcoDesktop: "b0a1c2d3e4f5061728394a5b6c7d8e9f00a1b2c6",
  alertHanaHigh: "da638700000000000001_-1761234501",
  alertMarcoTeller: "da638700000000000002_-1761234502",
  alertPriyaResolved: "da638700000000000003_-1761234503",
  /** The Entra tenant (aadTenantId, ESET's cloudOffice.tenantReference). */
  tenant: "5e1b7c90-2d4a-4f63-8b1e-0a9c8d7e6f50",
} as const;

const W = WOODGROVE;
const SID = "S-1-5-21-4020011938-2188913311-3051176902";

function defenderUser(id: string, rid: number, fields: WireObject): WireObject {
  const [domain, name] = id.split("\\") as [string, string];
  return {
    id,
    accountName: name,
    accountDomain: domain,
    accountSid: `${SID}-${rid}`,
    firstSeen: "2025-02-03T08:00:00Z",
    lastSeen: "2026-11-22T16:40:00Z",
    logonTypes: "Interactive, Network",
    logOnMachinesCount: 1,
    isDomainAdmin: false,
    isOnlyNetworkUser: false,
    ...fields,
  };
}

function esetUser(uuid: string, displayName: string, mail: string, fields: WireObject): WireObject {
  return {
    uuid,
    displayName,
    primaryEmailAddress: mail,
    proxyEmailAddresses: [],
    phoneNumbers: [],
    department: "Retail Banking",
    jobTitle: "Teller",
    officeLocation: "Woodgrove Main Branch",
    identities: [
      {
        createTime: "2025-02-03T08:00:00Z",
        updateTime: "",
        providerReference: mail,
        providerReferenceFormat: "IDENTITY_REFERENCE_FORMAT_USER_PRINCIPAL_NAME",
        providerType: "IDENTITY_PROVIDER_TYPE_MICROSOFT",
        userName: mail,
      },
    ],
    cloudOffice: { hasMsLicense: true, tenantReference: W.tenant },
    protectionStatus: "PROTECTION_STATUS_FULLY_PROTECTED",
    activeProductIds: [7n],
    userGroupUuids: ["c4a1b2c3-0000-4000-8000-0000000000b1"],
    ...fields,
  };
}

/** Woodgrove's users, machines and alerts; alert and machine times are relative to `now` (the simulator's start). */
export function woodgroveData(now: number): { defender: WireObject[]; eset: WireObject[]; relations: DefenderRelations } {
  const defender = [
    defenderUser(W.defenderHana, 1201, {
      mostPrevalentMachineId: W.machineHanaLaptop,
      leastPrevalentMachineId: W.machineTellerServer,
      logOnMachinesCount: 2,
    }),
    defenderUser(W.defenderMarco, 1202, {
      mostPrevalentMachineId: W.machineMarcoDesktop,
      leastPrevalentMachineId: W.machineTellerServer,
      logOnMachinesCount: 2,
    }),
    defenderUser(W.defenderPriya, 1203, {
      mostPrevalentMachineId: W.machineCore,
      leastPrevalentMachineId: W.machineCore,
      logonTypes: "Interactive, Network, RemoteInteractive",
      isDomainAdmin: true,
    }),
    defenderUser(W.defenderTellerService, 1290, {
      mostPrevalentMachineId: W.machineTellerServer,
      leastPrevalentMachineId: W.machineTellerServer,
      logonTypes: "Network, Service",
      isOnlyNetworkUser: true,
    }),
  ];
  const eset = [
    esetUser(W.esetHana, "Hana Lee", "hana.lee@woodgrovebank.com", {
      jobTitle: "Teller Supervisor",
      // ESET says unprotected while Defender has a High alert on her laptop: the coverage gap.
      protectionStatus: "PROTECTION_STATUS_UNPROTECTED",
      activeProductIds: [],
    }),
    esetUser(W.esetMarco, "Marco Rossi", "marco.rossi@woodgrovebank.com", { department: "Lending", jobTitle: "Loan Officer" }),
    esetUser(W.esetPriya, "Priya Natarajan", "priya.natarajan@woodgrovebank.com", {
      department: "IT",
      jobTitle: "Systems Administrator",
      officeLocation: "Woodgrove Data Centre",
      protectionStatus: "PROTECTION_STATUS_PARTIALLY_PROTECTED",
    }),
    esetUser(W.esetSam, "Sam Okafor", "sam.okafor@woodgrovebank.com", {
      department: "Compliance",
      jobTitle: "Analyst",
      protectionStatus: "PROTECTION_STATUS_PENDING",
      activeProductIds: [],
    }),
  ];

  const group = (fields: WireObject) => ({ rbacGroupId: 310, rbacGroupName: "Woodgrove Branches", ...fields });
  const machines = [
    machine(
      W.machineHanaLaptop,
      group({
        computerDnsName: "wg-lt-hlee.woodgrovebank.com",
        firstSeen: "2025-02-03T08:05:00.0000000Z",
        lastSeen: before(now, 2 * HOUR),
        lastIpAddress: "10.60.1.21",
        riskScore: "High",
        exposureLevel: "Medium",
        deviceValue: "High",
        machineTags: ["branch"],
      }),
    ),
    machine(
      W.machineMarcoDesktop,
      group({
        computerDnsName: "wg-dt-mrossi.woodgrovebank.com",
        firstSeen: "2025-02-04T09:00:00.0000000Z",
        lastSeen: before(now, 6 * HOUR),
        osPlatform: "Windows10",
        version: "22H2",
        osBuild: 19045,
        lastIpAddress: "10.60.1.34",
        riskScore: "Medium",
      }),
    ),
    machine(
      W.machineTellerServer,
      group({
        computerDnsName: "wg-teller01.woodgrovebank.com",
        firstSeen: "2024-11-11T11:00:00.0000000Z",
        lastSeen: before(now, HOUR),
        osPlatform: "WindowsServer2022",
        version: "21H2",
        osBuild: 20348,
        isAadJoined: false,
        lastIpAddress: "10.60.0.10",
        riskScore: "Medium",
        exposureLevel: "High",
        deviceValue: "High",
        machineTags: ["teller", "shared"],
      }),
    ),
    machine(W.machineCore, {
      computerDnsName: "wg-core01.woodgrovebank.com",
      firstSeen: "2024-06-01T06:00:00.0000000Z",
      lastSeen: before(now, 3 * HOUR),
      osPlatform: "WindowsServer2019",
      version: "1809",
      osBuild: 17763,
      rbacGroupId: 311,
      rbacGroupName: "Woodgrove Core Servers",
      isAadJoined: false,
      lastIpAddress: "10.60.0.2",
      riskScore: "Low",
      exposureLevel: "Medium",
      deviceValue: "High",
      machineTags: ["domain-controller"],
    }),
  ];
  const logons = new Map<string, string[]>([
    [W.machineHanaLaptop, [W.defenderHana]],
    [W.machineMarcoDesktop, [W.defenderMarco]],
    [W.machineTellerServer, [W.defenderHana, W.defenderMarco, W.defenderTellerService]],
    [W.machineCore, [W.defenderPriya]],
  ]);

  const soc = "soc@woodgrovebank.com";
  const alerts = [
    alert(W.alertHanaHigh, {
      incidentId: 7101,
      severity: "High",
      status: "New",
      investigationState: "Running",
      category: "CredentialAccess",
      title: "Credential theft tool detected",
      description: "A known credential dumping tool ran on a branch laptop.",
      ...times(now, DAY, 3 * HOUR),
      machineId: W.machineHanaLaptop,
      computerDnsName: "wg-lt-hlee.woodgrovebank.com",
      rbacGroupName: "Woodgrove Branches",
      aadTenantId: W.tenant,
      mitreTechniques: ["T1003.001"],
      relatedUser: { userName: "hlee", domainName: "WOODGROVE" },
      evidence: [
        userEvidence(
          before(now, DAY),
          "hlee",
          "WOODGROVE",
          "hana.lee@woodgrovebank.com",
          `${SID}-1201`,
          "a1a1a1a1-5e1b-4c7d-9a0b-000000001201",
        ),
      ],
    }),
    alert(W.alertMarcoTeller, {
      incidentId: 7102,
      assignedTo: soc,
      severity: "Medium",
      status: "InProgress",
      investigationState: "PendingApproval",
      category: "LateralMovement",
      title: "Unusual remote logon to the teller server",
      description: "An account logged on to the teller server from a workstation it does not normally use.",
      ...times(now, 3 * DAY, DAY),
      machineId: W.machineTellerServer,
      computerDnsName: "wg-teller01.woodgrovebank.com",
      rbacGroupName: "Woodgrove Branches",
      aadTenantId: W.tenant,
      mitreTechniques: ["T1021.001"],
      relatedUser: { userName: "mrossi", domainName: "WOODGROVE" },
      comments: [{ comment: "Checking with the branch manager.", createdBy: soc, createdTime: before(now, 2 * DAY) }],
      evidence: [
        userEvidence(
          before(now, 3 * DAY),
          "mrossi",
          "WOODGROVE",
          "marco.rossi@woodgrovebank.com",
          `${SID}-1202`,
          "a1a1a1a1-5e1b-4c7d-9a0b-000000001202",
        ),
      ],
    }),
    alert(W.alertPriyaResolved, {
      incidentId: 7050,
      severity: "Low",
      status: "Resolved",
      classification: "TruePositive",
      determination: "SecurityTesting",
      investigationState: "Benign",
      category: "Discovery",
      title: "Network share enumeration",
      description: "An administrator listed every share of the core servers.",
      ...times(now, 4 * DAY, DAY),
      resolvedTime: before(now, 3 * DAY),
      machineId: W.machineCore,
      computerDnsName: "wg-core01.woodgrovebank.com",
      rbacGroupName: "Woodgrove Core Servers",
      aadTenantId: W.tenant,
      mitreTechniques: ["T1135"],
      relatedUser: { userName: "pnatarajan", domainName: "WOODGROVE" },
    }),
  ];
  return { defender, eset, relations: { machines, alerts, logons } };
}
