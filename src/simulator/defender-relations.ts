/**
 * Defender machines, alerts and log-on users for the simulator, consistent with the demo users of
 * demo-data.ts and shaped like the documented examples (UPSTREAMS.md §5): 40-hex machine ids, `rbacGroupId`
 * as a number, `relatedUser` as an object `{userName, domainName}`, `mitreTechniques` as an array, 7-digit
 * fractions of a second, `evidence` items with every documented key (null when it does not apply).
 *
 * Deterministic: times are offsets from the simulator's start, so "the last 7 days" always finds the same
 * alerts, and nothing is random.
 *
 * The story a dashboard can show:
 * - contoso\alice: her laptop (alice-laptop) has a High alert from 2 days ago, New, with User evidence that
 *   names alice@contoso.com; a Medium alert on the shared file server (fs01), In progress and assigned.
 *   ESET says she is fully protected: Defender disagrees.
 * - fs01.contoso.com: a shared server with five logged-on users (alice, user1, svc-backup, bob, and one
 *   generated person).
 * - contoso\user1: an old alert (45 days), Resolved as a false positive, on desktop-user1.
 * - fabrikam\bob (domain admin): a Medium alert on the domain controller dc01, 5 days ago.
 * - corp\dmiller (ESET: fully protected, dave.miller@northwind.example): a High ransomware alert on the
 *   hot-desk workstation hotdesk-05, which contoso\user10 and fabrikam\cjones also use; its User evidence is
 *   Defender's own proof that CORP\dmiller is dave.miller@northwind.example.
 * - fabrikam\cjones: an Informational alert on hotdesk-05 whose evidence names carol.jones@fabrikam.com.
 * - contoso\svc-backup: backup01 (communication impaired) and an old Resolved alert.
 * - testmachine1\administrator1: a machine with no sensor data and an alert with no related user.
 * - the generated people: each has a PC (and most a VM); every third has an alert in the last 7 days.
 */
import type { WireObject } from "./demo-data";

export const DEMO_MACHINES = {
  aliceLaptop: "7f3a9c1e5b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a",
  sharedServer: "c4e6a8b0d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2",
  bobDev: "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d",
  domainController: "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
  user1Desktop: "0111b647235c26159bec3e5eb6c8c3a0cc3ab766",
  hotDesk: "5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80",
  backupServer: "aa11bb22cc33dd44ee55ff66aa77bb88cc99dd00",
  testMachine: "3f0c1d2e4b5a69788796a5b4c3d2e1f00f1e2d3c",
} as const;

export const DEMO_ALERTS = {
  aliceHigh: "da638670000000000001_-1741234567",
  aliceShared: "da638670000000000002_-1741234568",
  user1Resolved: "da638670000000000003_-1741234569",
  bobDc: "da638670000000000004_-1741234570",
  dmillerRansomware: "da638670000000000005_-1741234571",
  cjonesInfo: "da638670000000000006_-1741234572",
  svcBackupResolved: "da638670000000000007_-1741234573",
  testMachineNoUser: "da638670000000000008_-1741234574",
  svcBackupCredentials: "da638670000000000009_-1741234575",
} as const;

export interface DefenderRelations {
  machines: WireObject[];
  /** Alerts with their full `evidence` (the simulator empties it unless `$expand=evidence`). */
  alerts: WireObject[];
  /** Machine id → ids of the users logged on to it (GET /api/machines/{id}/logonusers). */
  logons: Map<string, string[]>;
}

const TENANT = "a839b112-1253-6432-9bf6-94542403f21c";
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** An ISO time `ms` before `now`, with Defender's 7-digit fraction of a second. */
export function before(now: number, ms: number): string {
  return new Date(now - ms).toISOString().replace(/\.(\d{3})Z$/, ".$10000Z");
}

/** A machine with every documented key: the defaults of a Contoso workstation, then `fields`. */
export function machine(id: string, fields: WireObject): WireObject {
  return {
    id,
    computerDnsName: null,
    firstSeen: null,
    lastSeen: null,
    osPlatform: "Windows11",
    version: "23H2",
    osProcessor: "x64",
    osArchitecture: "64-bit",
    lastIpAddress: null,
    lastExternalIpAddress: null,
    osBuild: 22631,
    healthStatus: "Active",
    onboardingStatus: "onboarded",
    rbacGroupId: 140,
    rbacGroupName: "Contoso Workstations",
    riskScore: "None",
    exposureLevel: "Low",
    deviceValue: "Normal",
    isAadJoined: true,
    aadDeviceId: null,
    machineTags: [],
    ipAddresses: [],
    ...fields,
  };
}

const EVIDENCE_KEYS = [
  "sha1",
  "sha256",
  "fileName",
  "filePath",
  "processId",
  "processCommandLine",
  "processCreationTime",
  "parentProcessId",
  "parentProcessCreationTime",
  "parentProcessFileName",
  "parentProcessFilePath",
  "ipAddress",
  "url",
  "registryKey",
  "registryHive",
  "registryValueType",
  "registryValue",
  "accountName",
  "domainName",
  "userSid",
  "aadUserId",
  "userPrincipalName",
  "detectionStatus",
] as const;

/** One evidence item with every documented key; those that do not apply are null, as in the docs' example. */
export function evidence(entityType: string, evidenceCreationTime: string, fields: WireObject): WireObject {
  const item: WireObject = { entityType, evidenceCreationTime };
  for (const key of EVIDENCE_KEYS) item[key] = null;
  return Object.assign(item, fields);
}

/** User evidence: what Defender itself says an account's UPN is. */
export function userEvidence(at: string, accountName: string, domainName: string, upn: string, sid: string, aadUserId: string): WireObject {
  return evidence("User", at, { accountName, domainName, userPrincipalName: upn, userSid: sid, aadUserId });
}

/** An alert with every documented key (null when unknown), then `fields`. */
export function alert(id: string, fields: WireObject): WireObject {
  return {
    id,
    incidentId: null,
    investigationId: null,
    assignedTo: null,
    severity: "Medium",
    status: "New",
    classification: null,
    determination: null,
    investigationState: "Queued",
    detectionSource: "WindowsDefenderAtp",
    detectorId: null,
    category: "SuspiciousActivity",
    threatFamilyName: null,
    title: null,
    description: null,
    alertCreationTime: null,
    firstEventTime: null,
    lastEventTime: null,
    lastUpdateTime: null,
    resolvedTime: null,
    machineId: null,
    computerDnsName: null,
    rbacGroupName: null,
    aadTenantId: TENANT,
    threatName: null,
    mitreTechniques: [],
    relatedUser: null,
    comments: [],
    evidence: [],
    ...fields,
  };
}

/** Times of an alert `ageMs` old: events a few minutes before creation, updated `updatedMs` later. */
export function times(now: number, ageMs: number, updatedMs = 2 * 60_000): WireObject {
  return {
    firstEventTime: before(now, ageMs + 4 * 60_000),
    lastEventTime: before(now, ageMs + 60_000),
    alertCreationTime: before(now, ageMs),
    lastUpdateTime: before(now, ageMs - updatedMs),
  };
}

export function demoRelations(users: readonly WireObject[], now: number): DefenderRelations {
  const m = DEMO_MACHINES;
  const machines: WireObject[] = [
    machine(m.aliceLaptop, {
      computerDnsName: "alice-laptop.contoso.com",
      firstSeen: "2024-03-11T08:02:11.1234567Z",
      lastSeen: before(now, 3 * HOUR),
      lastIpAddress: "10.20.4.17",
      lastExternalIpAddress: "167.220.196.71",
      riskScore: "High",
      exposureLevel: "Medium",
      deviceValue: "High",
      aadDeviceId: "80fe8ff8-2624-418e-9591-41f0491218f9",
      machineTags: ["SOC", "VIP"],
      ipAddresses: [{ ipAddress: "10.20.4.17", macAddress: "8CEC4B897E73", operationalStatus: "Up" }],
    }),
    machine(m.sharedServer, {
      computerDnsName: "fs01.contoso.com",
      firstSeen: "2022-01-10T10:00:00.0000000Z",
      lastSeen: before(now, 2 * HOUR),
      osPlatform: "WindowsServer2022",
      version: "21H2",
      osBuild: 20348,
      lastIpAddress: "10.20.0.5",
      lastExternalIpAddress: "167.220.196.70",
      rbacGroupId: 141,
      rbacGroupName: "Contoso Servers",
      riskScore: "Medium",
      exposureLevel: "High",
      deviceValue: "High",
      isAadJoined: false,
      machineTags: ["file-server", "shared"],
      ipAddresses: [
        { ipAddress: "10.20.0.5", macAddress: "00155D0A0B01", operationalStatus: "Up" },
        { ipAddress: "fe80::215:5dff:fe0a:b01", macAddress: "00155D0A0B01", operationalStatus: "Up" },
      ],
    }),
    machine(m.bobDev, {
      computerDnsName: "bob-dev.fabrikam.com",
      firstSeen: "2023-06-01T09:30:00.0000000Z",
      lastSeen: before(now, 20 * HOUR),
      osPlatform: "Linux",
      version: "Ubuntu 22.04",
      osBuild: null,
      rbacGroupId: 150,
      rbacGroupName: "Fabrikam",
      riskScore: "Low",
      exposureLevel: "Low",
      isAadJoined: false,
      lastIpAddress: "192.168.7.20",
    }),
    machine(m.domainController, {
      computerDnsName: "dc01.fabrikam.com",
      firstSeen: "2021-04-04T04:04:04.0000000Z",
      lastSeen: before(now, 1 * HOUR),
      osPlatform: "WindowsServer2019",
      version: "1809",
      osBuild: 17763,
      rbacGroupId: 150,
      rbacGroupName: "Fabrikam",
      riskScore: "Medium",
      exposureLevel: "Medium",
      deviceValue: "High",
      isAadJoined: false,
      machineTags: ["domain-controller"],
      lastIpAddress: "192.168.7.2",
    }),
    machine(m.user1Desktop, {
      computerDnsName: "desktop-user1.contoso.com",
      firstSeen: "2019-12-08T06:30:00.0000000Z",
      lastSeen: before(now, 30 * HOUR),
      osPlatform: "Windows10",
      version: "22H2",
      osBuild: 19045,
      osArchitecture: "32-bit",
      osProcessor: "x86",
      riskScore: "Informational",
      exposureLevel: "None",
      deviceValue: "Low",
      lastIpAddress: "10.20.5.33",
    }),
    machine(m.hotDesk, {
      computerDnsName: "hotdesk-05.contoso.com",
      firstSeen: "2024-05-02T07:55:00.0000000Z",
      lastSeen: before(now, 5 * HOUR),
      riskScore: "High",
      exposureLevel: "High",
      healthStatus: "NoSensorDataImpairedCommunication",
      machineTags: ["hot-desk"],
      lastIpAddress: "10.20.6.105",
    }),
    machine(m.backupServer, {
      computerDnsName: "backup01.contoso.com",
      firstSeen: "2022-02-02T02:00:00.0000000Z",
      lastSeen: before(now, 4 * DAY),
      osPlatform: "WindowsServer2022",
      version: "21H2",
      osBuild: 20348,
      healthStatus: "ImpairedCommunication",
      rbacGroupId: 141,
      rbacGroupName: "Contoso Servers",
      riskScore: "Low",
      exposureLevel: "Medium",
      isAadJoined: false,
      lastIpAddress: "10.20.0.9",
    }),
    // JupiterOne's recorded tenant: a machine that stopped reporting; osBuild beyond 2^53 tests int64 exactness.
    machine(m.testMachine, {
      computerDnsName: "testmachine1",
      firstSeen: "2021-01-13T09:00:00.0000000Z",
      lastSeen: "2021-01-13T09:03:18.0000000Z",
      osPlatform: "Windows10",
      version: "1909",
      osBuild: 9007199254740993n,
      healthStatus: "NoSensorData",
      onboardingStatus: "InsufficientInfo",
      rbacGroupId: "142",
      rbacGroupName: "Unassigned",
      riskScore: null,
      exposureLevel: null,
      deviceValue: null,
      isAadJoined: false,
      osArchitecture: null,
      osProcessor: null,
    }),
  ];
  const logons = new Map<string, string[]>([
    [m.aliceLaptop, ["contoso\\alice"]],
    [m.sharedServer, ["contoso\\alice", "contoso\\user1", "contoso\\svc-backup", "fabrikam\\bob"]],
    [m.bobDev, ["fabrikam\\bob"]],
    [m.domainController, ["fabrikam\\bob"]],
    [m.user1Desktop, ["contoso\\user1"]],
    [m.hotDesk, ["contoso\\user10", "fabrikam\\cjones", "corp\\dmiller"]],
    [m.backupServer, ["contoso\\svc-backup"]],
    [m.testMachine, ["testmachine1\\administrator1"]],
  ]);

  const a = DEMO_ALERTS;
  const soc = "soc-lead@contoso.com";
  const alerts: WireObject[] = [
    alert(a.aliceHigh, {
      incidentId: 4101,
      investigationId: 72301,
      severity: "High",
      status: "New",
      investigationState: "Running",
      category: "Execution",
      detectorId: "17e10bbc-3a68-474a-8aad-faef14d43952",
      title: "Suspicious PowerShell command line",
      description: "A process ran an encoded PowerShell command that downloaded and started a script from the internet.",
      ...times(now, 2 * DAY, 20 * HOUR),
      machineId: m.aliceLaptop,
      computerDnsName: "alice-laptop.contoso.com",
      rbacGroupName: "Contoso Workstations",
      mitreTechniques: ["T1059.001", "T1105", "T1027"],
      relatedUser: { userName: "alice", domainName: "CONTOSO" },
      comments: [{ comment: "Isolating the device while we look.", createdBy: soc, createdTime: before(now, 2 * DAY - 30 * 60_000) }],
      evidence: [
        userEvidence(
          before(now, 2 * DAY),
          "alice",
          "CONTOSO",
          "alice@contoso.com",
          "S-1-5-21-72051607-1745760036-109187956-1104",
          "6a1f1c0e-0a11-4c3e-9d0a-a11ce0000001",
        ),
        evidence("Process", before(now, 2 * DAY), {
          sha1: "ff836cfb1af40252bd2a2ea843032e99a5b262ed",
          sha256: "a4752c71d81afd3d5865d24ddb11a6b0c615062fcc448d24050c2172d2cbccd6",
          fileName: "powershell.exe",
          filePath: "C:\\Windows\\System32\\WindowsPowerShell\\v1.0",
          processId: 7212,
          processCommandLine: "powershell.exe -NoProfile -EncodedCommand SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoA",
          processCreationTime: before(now, 2 * DAY + 4 * 60_000),
          parentProcessId: 5120,
          parentProcessCreationTime: before(now, 2 * DAY + 5 * 60_000),
          parentProcessFileName: "outlook.exe",
          parentProcessFilePath: "C:\\Program Files\\Microsoft Office\\root\\Office16",
          detectionStatus: "Detected",
        }),
        evidence("Url", before(now, 2 * DAY), { url: "http://invoice-update.example/payload.ps1", ipAddress: "203.0.113.45" }),
      ],
    }),
    alert(a.aliceShared, {
      incidentId: 4101,
      investigationId: 72302,
      assignedTo: soc,
      severity: "Medium",
      status: "InProgress",
      classification: "TruePositive",
      determination: "CompromisedUser",
      investigationState: "PendingApproval",
      category: "LateralMovement",
      title: "Suspicious remote logon to a file server",
      description: "An account logged on to a server it does not normally use, shortly after a suspicious process on its laptop.",
      ...times(now, 3 * DAY, 2 * DAY),
      machineId: m.sharedServer,
      computerDnsName: "fs01.contoso.com",
      rbacGroupName: "Contoso Servers",
      mitreTechniques: ["T1021.002", "T1078"],
      relatedUser: { userName: "alice", domainName: "CONTOSO" },
      comments: [
        { comment: "Same account as the PowerShell alert on alice-laptop.", createdBy: soc, createdTime: before(now, 3 * DAY - HOUR) },
        { comment: "Password reset requested.", createdBy: "helpdesk@contoso.com", createdTime: before(now, 2 * DAY) },
      ],
      evidence: [
        userEvidence(
          before(now, 3 * DAY),
          "alice",
          "CONTOSO",
          "alice@contoso.com",
          "S-1-5-21-72051607-1745760036-109187956-1104",
          "6a1f1c0e-0a11-4c3e-9d0a-a11ce0000001",
        ),
        evidence("Ip", before(now, 3 * DAY), { ipAddress: "10.20.4.17" }),
      ],
    }),
    alert(a.user1Resolved, {
      incidentId: 3007,
      severity: "Low",
      status: "Resolved",
      classification: "FalsePositive",
      determination: "Clean",
      investigationState: "Benign",
      detectionSource: "WindowsDefenderAv",
      category: "UnwantedSoftware",
      threatFamilyName: "BrowserModifier",
      threatName: "PUA:Win32/BrowserModifier",
      title: "Potentially unwanted application was detected",
      description: "A browser toolbar was detected and removed.",
      ...times(now, 45 * DAY, DAY),
      resolvedTime: before(now, 44 * DAY),
      machineId: m.user1Desktop,
      computerDnsName: "desktop-user1.contoso.com",
      rbacGroupName: "Contoso Workstations",
      relatedUser: { userName: "user1", domainName: "CONTOSO" },
      comments: [{ comment: "Approved toolbar; closing.", createdBy: soc, createdTime: before(now, 44 * DAY) }],
      evidence: [
        evidence("File", before(now, 45 * DAY), {
          sha1: "8563f95b2f8a284fc99da44500cd51a77c1ff36c",
          sha256: "dc0ade0c95d6db98882bc8fa6707e64353cd6f7767ff48d6a81a6c2aef21c608",
          fileName: "toolbar-setup.exe",
          filePath: "C:\\Users\\user1\\Downloads",
          detectionStatus: "Prevented",
        }),
      ],
    }),
    alert(a.bobDc, {
      incidentId: 4110,
      severity: "Medium",
      status: "New",
      investigationState: "Queued",
      category: "Discovery",
      title: "Suspicious LDAP enumeration of privileged groups",
      description: "A domain administrator account queried the membership of every privileged group.",
      ...times(now, 5 * DAY),
      machineId: m.domainController,
      computerDnsName: "dc01.fabrikam.com",
      rbacGroupName: "Fabrikam",
      mitreTechniques: ["T1087.002", "T1069.002"],
      relatedUser: { userName: "bob", domainName: "FABRIKAM" },
      evidence: [
        userEvidence(
          before(now, 5 * DAY),
          "bob",
          "FABRIKAM",
          "bob@fabrikam.com",
          "S-1-5-21-3623811015-3361044348-30300820-1013",
          "0b0b0b0b-2a59-4c1e-ac3c-a51eb4a3c627",
        ),
      ],
    }),
    alert(a.dmillerRansomware, {
      incidentId: 4120,
      investigationId: 72310,
      severity: "High",
      status: "New",
      investigationState: "PendingResource",
      detectionSource: "WindowsDefenderAv",
      category: "Ransomware",
      threatFamilyName: "Filecoder",
      threatName: "Ransom:Win32/Filecoder.A",
      title: "Ransomware behavior detected in the file system",
      description: "A process renamed many files in a short time and left ransom notes.",
      ...times(now, 20 * HOUR),
      machineId: m.hotDesk,
      computerDnsName: "hotdesk-05.contoso.com",
      rbacGroupName: "Contoso Workstations",
      mitreTechniques: ["T1486"],
      relatedUser: { userName: "dmiller", domainName: "CORP" },
      evidence: [
        userEvidence(
          before(now, 20 * HOUR),
          "dmiller",
          "CORP",
          "dave.miller@northwind.example",
          "S-1-5-21-72051607-1745760036-109187956-5030",
          "d0d0d0d0-2a59-4c1e-ac3c-a51eb4a3c627",
        ),
        evidence("File", before(now, 20 * HOUR), {
          fileName: "README_RESTORE.txt",
          filePath: "C:\\Users\\dmiller\\Documents",
          detectionStatus: "Blocked",
        }),
      ],
    }),
    alert(a.cjonesInfo, {
      severity: "Informational",
      status: "New",
      investigationState: "UnsupportedAlertType",
      detectionSource: "CustomDetection",
      category: "InitialAccess",
      title: "Sign-in from an unfamiliar location",
      description: "A legacy account signed in to a hot-desk workstation from a new network.",
      ...times(now, 6 * DAY),
      machineId: m.hotDesk,
      computerDnsName: "hotdesk-05.contoso.com",
      rbacGroupName: "Contoso Workstations",
      relatedUser: { userName: "cjones", domainName: "FABRIKAM" },
      evidence: [
        userEvidence(
          before(now, 6 * DAY),
          "cjones",
          "FABRIKAM",
          "carol.jones@fabrikam.com",
          "S-1-5-21-72051607-1745760036-109187956-5020",
          "c0c0c0c0-2a59-4c1e-ac3c-a51eb4a3c627",
        ),
      ],
    }),
    alert(a.svcBackupResolved, {
      severity: "Informational",
      status: "Resolved",
      classification: "Informational, expected activity",
      determination: "LineOfBusinessApplication",
      investigationState: "SuccessfullyRemediated",
      category: "Impact",
      title: "Unusual volume of file deletions",
      description: "The backup service account deleted many files in a short time.",
      ...times(now, 10 * DAY, 8 * DAY),
      resolvedTime: before(now, 2 * DAY),
      machineId: m.backupServer,
      computerDnsName: "backup01.contoso.com",
      rbacGroupName: "Contoso Servers",
      mitreTechniques: ["T1485"],
      relatedUser: { userName: "svc-backup", domainName: "CONTOSO" },
    }),
    // The service account again, this week: an account at risk that ESET knows nothing of (peopleAtRisk's coverage gap).
    alert(a.svcBackupCredentials, {
      severity: "Medium",
      status: "InProgress",
      investigationState: "Running",
      detectionSource: "WindowsDefenderAtp",
      category: "CredentialAccess",
      title: "Service account credentials used interactively",
      description: "The backup service account signed in interactively on the backup server.",
      ...times(now, 1 * DAY),
      machineId: m.backupServer,
      computerDnsName: "backup01.contoso.com",
      rbacGroupName: "Contoso Servers",
      mitreTechniques: ["T1078.002"],
      relatedUser: { userName: "svc-backup", domainName: "CONTOSO" },
    }),
    // A machine-only alert: no related user, an unknown status, unspecified severity.
    alert(a.testMachineNoUser, {
      severity: "UnSpecified",
      status: "Unknown",
      investigationState: "UnsupportedOs",
      detectionSource: "AutomatedInvestigation",
      category: "General",
      title: "Sensor stopped reporting",
      ...times(now, 30 * DAY),
      machineId: m.testMachine,
      computerDnsName: "testmachine1",
      rbacGroupName: "Unassigned",
    }),
  ];

  // The generated people (demo-data.ts): a PC for each, a VM for most, and every third an alert this week.
  const known = new Set(machines.map((x) => x.id as string));
  let k = 0;
  for (const user of users) {
    const most = user.mostPrevalentMachineId;
    const domain = user.accountDomain;
    const name = user.accountName;
    if (typeof most !== "string" || known.has(most) || typeof domain !== "string" || typeof name !== "string") continue;
    const least = user.leastPrevalentMachineId;
    const ours = [most, ...(typeof least === "string" && least !== most ? [least] : [])];
    ours.forEach((id, j) => {
      known.add(id);
      machines.push(
        machine(id, {
          computerDnsName: `${name}-${j === 0 ? "pc" : "vm"}.${domain}.com`,
          firstSeen: user.firstSeen,
          lastSeen: before(now, (1 + ((k * 5 + j) % 40)) * HOUR),
          osPlatform: j === 0 ? (k % 4 === 3 ? "macOS" : "Windows11") : "WindowsServer2022",
          healthStatus: ["Active", "Active", "Inactive", "Active", "ImpairedCommunication", "Unknown"][k % 6],
          riskScore: ["None", "Low", "Medium", "High", "Informational"][k % 5],
          exposureLevel: ["Low", "Medium", "High", "None"][k % 4],
          rbacGroupName: domain === "fabrikam" ? "Fabrikam" : "Contoso Workstations",
          rbacGroupId: domain === "fabrikam" ? 150 : 140,
          // Tags for the fleet view's filters: a few VIP laptops, some kiosks, the VMs tagged as such.
          machineTags: j === 1 ? ["vm"] : k % 5 === 0 ? ["VIP"] : k % 5 === 2 ? ["kiosk", "shared"] : [],
          lastIpAddress: `10.30.${k % 250}.${10 + j}`,
        }),
      );
      logons.set(id, [user.id as string]);
    });
    if (k === 0) logons.get(m.sharedServer)!.push(user.id as string);
    if (k % 3 === 0) {
      const severity = ["High", "Medium", "Low", "Informational"][(k / 3) % 4]!;
      alerts.push(
        alert(`da63867${String(100000000000 + k)}_-${1800000000 + k}`, {
          incidentId: 5000 + k,
          severity,
          status: ["New", "InProgress", "New", "Resolved"][(k / 3) % 4],
          resolvedTime: (k / 3) % 4 === 3 ? before(now, HOUR) : null,
          category: ["CredentialAccess", "Execution", "Persistence", "DefenseEvasion"][(k / 3) % 4],
          title: [
            "Password spraying against a workstation",
            "Suspicious script execution",
            "New scheduled task",
            "Tampering with security settings",
          ][(k / 3) % 4],
          ...times(now, (1 + ((k * 7) % 5)) * DAY + (k % 12) * HOUR),
          machineId: most,
          computerDnsName: `${name}-pc.${domain}.com`,
          rbacGroupName: domain === "fabrikam" ? "Fabrikam" : "Contoso Workstations",
          mitreTechniques: [["T1110.003"], ["T1059"], ["T1053.005"], ["T1562.001"]][(k / 3) % 4],
          relatedUser: { userName: name, domainName: domain.toUpperCase() },
          evidence: [
            userEvidence(
              before(now, DAY),
              name,
              domain.toUpperCase(),
              `${name}@${domain}.com`,
              String(user.accountSid ?? ""),
              `0000000${k % 10}-2a59-4c1e-ac3c-a51eb4a3c627`,
            ),
          ],
        }),
      );
    }
    k++;
  }
  return { machines, alerts, logons };
}

/** The id of generated machine `i` (extraDefenderMachines): 40 hex digits. */
export function benchMachineId(i: number): string {
  return `be${i.toString(16).padStart(38, "0")}`;
}

/**
 * Generated machines and alerts for benchmarks: machine i belongs to bench user `i % users`; alert j sits
 * on machine `j % machines`, relates to bench user `j % users` (whose User evidence names
 * `user{j % users}@generated.example`, the generated ESET user of the same number), and was last updated
 * within the last 7 days.
 */
export function benchRelations(machines: number, alertCount: number, users: number, now: number): DefenderRelations {
  const out: DefenderRelations = { machines: [], alerts: [], logons: new Map() };
  const userName = (i: number) => `user${String(i).padStart(6, "0")}`;
  for (let i = 0; i < machines; i++) {
    const id = benchMachineId(i);
    out.machines.push(
      machine(id, {
        computerDnsName: `bench-${String(i).padStart(6, "0")}.bench.local`,
        firstSeen: "2025-01-01T00:00:00.0000000Z",
        lastSeen: before(now, (i % 48) * HOUR),
        riskScore: ["None", "Low", "Medium", "High"][i % 4],
        healthStatus: i % 10 === 0 ? "Inactive" : "Active",
        rbacGroupName: "Bench",
        rbacGroupId: 900,
      }),
    );
    out.logons.set(id, users > 0 ? [`bench\\${userName(i % users)}`] : []);
  }
  for (let j = 0; j < alertCount; j++) {
    const u = users > 0 ? j % users : undefined;
    const machineId = machines > 0 ? benchMachineId(j % machines) : null;
    out.alerts.push(
      alert(`da63869${String(j).padStart(12, "0")}_-${1900000000 + (j % 100000000)}`, {
        incidentId: 900000 + Math.floor(j / 3),
        severity: ["Informational", "Low", "Medium", "High"][j % 4],
        status: ["New", "InProgress", "Resolved"][j % 3],
        category: "SuspiciousActivity",
        title: `Generated alert ${j}`,
        ...times(now, (j % (7 * 24 - 1)) * HOUR + 60_000 + (j % 997) * 1000, 30_000),
        machineId,
        computerDnsName: machineId === null ? null : `bench-${String(j % machines).padStart(6, "0")}.bench.local`,
        rbacGroupName: "Bench",
        mitreTechniques: ["T1059"],
        relatedUser: u === undefined ? null : { userName: userName(u), domainName: "BENCH" },
        evidence:
          u === undefined
            ? []
            : [
                userEvidence(
                  before(now, HOUR),
                  userName(u),
                  "BENCH",
                  `user${u}@generated.example`,
                  `S-1-5-21-9-9-9-${u}`,
                  `b0000000-0000-4000-8000-${String(u).padStart(12, "0")}`,
                ),
              ],
      }),
    );
  }
  return out;
}
