import type { UnknownEnumReporter } from "../../../graphql/normalize";
import { date, splitList, str } from "../../../graphql/normalize";
import { isObject } from "../../../upstream/json-shape";
import type { AlertEvidenceDto, DefenderAlertDto } from "../dto";
import { defenderEnum } from "../enum-value";
import { int64 } from "../machines/machine.mapper";
import { AlertSeverity, AlertStatus } from "./alert.enums";
import type { AlertEvidence, AlertRelatedUser, DefenderAlert } from "./alert.type";

const mapped = new WeakMap<DefenderAlertDto, DefenderAlert>();

/** Defender wire alert → DefenderAlert. Pure; memoised by DTO identity. */
export function toDefenderAlert(dto: DefenderAlertDto, report: UnknownEnumReporter): DefenderAlert {
  let alert = mapped.get(dto);
  if (alert === undefined) mapped.set(dto, (alert = map(dto, report)));
  return alert;
}

function map(dto: DefenderAlertDto, report: UnknownEnumReporter): DefenderAlert {
  return {
    id: dto.id,
    title: str(dto.title),
    description: str(dto.description),
    severity: defenderEnum(dto.severity, "AlertSeverity", AlertSeverity, AlertSeverity.UNSPECIFIED, report),
    status: defenderEnum(dto.status, "AlertStatus", AlertStatus, AlertStatus.UNSPECIFIED, report),
    classification: str(dto.classification),
    determination: str(dto.determination),
    category: str(dto.category),
    detectionSource: str(dto.detectionSource),
    threatFamilyName: str(dto.threatFamilyName),
    threatName: str(dto.threatName),
    assignedTo: str(dto.assignedTo),
    rbacGroupName: str(dto.rbacGroupName),
    alertCreationTime: date(dto.alertCreationTime),
    firstEventTime: date(dto.firstEventTime),
    lastEventTime: date(dto.lastEventTime),
    lastUpdateTime: date(dto.lastUpdateTime),
    resolvedTime: date(dto.resolvedTime),
    incidentId: int64(dto.incidentId),
    investigationId: int64(dto.investigationId),
    investigationState: str(dto.investigationState),
    // The table says String, the examples an array: a comma-separated string is split like logonTypes.
    mitreTechniques: splitList(dto.mitreTechniques),
    relatedUser: relatedUser(dto.relatedUser),
    machineId: str(dto.machineId),
    computerDnsName: str(dto.computerDnsName),
    comments: Array.isArray(dto.comments)
      ? dto.comments
          .filter(isObject)
          .map((c) => ({ comment: str(c.comment), createdBy: str(c.createdBy), createdTime: date(c.createdTime) }))
      : [],
    evidence: evidenceOf(dto).map(toEvidence),
  };
}

/** `evidence` as the examples spell it, `Evidence` as the property table does. */
export function evidenceOf(dto: DefenderAlertDto): AlertEvidenceDto[] {
  const list = Array.isArray(dto.evidence) ? dto.evidence : Array.isArray(dto.Evidence) ? dto.Evidence : [];
  return list.filter(isObject) as AlertEvidenceDto[];
}

function toEvidence(e: AlertEvidenceDto): AlertEvidence {
  return {
    entityType: str(e.entityType),
    evidenceCreationTime: date(e.evidenceCreationTime),
    sha1: str(e.sha1),
    sha256: str(e.sha256),
    fileName: str(e.fileName),
    filePath: str(e.filePath),
    processId: int64(e.processId),
    processCommandLine: str(e.processCommandLine),
    processCreationTime: date(e.processCreationTime),
    parentProcessId: int64(e.parentProcessId),
    parentProcessCreationTime: date(e.parentProcessCreationTime),
    parentProcessFileName: str(e.parentProcessFileName),
    parentProcessFilePath: str(e.parentProcessFilePath),
    ipAddress: str(e.ipAddress),
    url: str(e.url),
    registryKey: str(e.registryKey),
    registryHive: str(e.registryHive),
    registryValueType: str(e.registryValueType),
    registryValue: str(e.registryValue),
    accountName: str(e.accountName),
    domainName: str(e.domainName),
    userSid: str(e.userSid),
    aadUserId: str(e.aadUserId),
    userPrincipalName: str(e.userPrincipalName),
    detectionStatus: str(e.detectionStatus),
  };
}

/**
 * `relatedUser` in the object shape of the examples ({userName, domainName}); the table's String shape is
 * read too: "DOMAIN\\user" or a bare user name.
 */
export function relatedUser(v: unknown): AlertRelatedUser | null {
  let userName: string | null = null;
  let domainName: string | null = null;
  if (isObject(v)) {
    userName = str(v.userName);
    domainName = str(v.domainName);
  } else if (typeof v === "string") {
    const i = v.indexOf("\\");
    if (i > 0 && i < v.length - 1) {
      domainName = v.slice(0, i);
      userName = v.slice(i + 1);
    } else {
      userName = str(v);
    }
  }
  if (userName === null) return null;
  return {
    userName,
    domainName,
    defenderUserId: domainName === null ? userName.toLowerCase() : `${domainName}\\${userName}`.toLowerCase(),
  };
}

/** The Defender user ids an alert's related user can be asked by: "domain\\user" and the bare user name, folded. */
export function relatedUserKeys(dto: DefenderAlertDto): string[] {
  const user = relatedUser(dto.relatedUser);
  if (user === null) return [];
  const bare = user.userName!.toLowerCase();
  return user.defenderUserId === bare ? [bare] : [user.defenderUserId!, bare];
}

/** The evidence items of alerts that name a user with all of account, domain and UPN (LinkRule.ALERT_EVIDENCE). */
export function userEvidence(
  alerts: readonly DefenderAlertDto[],
): Array<{ accountName: string; domainName: string; userPrincipalName: string }> {
  const out: Array<{ accountName: string; domainName: string; userPrincipalName: string }> = [];
  for (const alert of alerts) {
    for (const e of evidenceOf(alert)) {
      if (
        typeof e.entityType === "string" &&
        e.entityType.toLowerCase() === "user" &&
        typeof e.accountName === "string" &&
        e.accountName !== "" &&
        typeof e.domainName === "string" &&
        e.domainName !== "" &&
        typeof e.userPrincipalName === "string" &&
        e.userPrincipalName !== ""
      ) {
        out.push({ accountName: e.accountName, domainName: e.domainName, userPrincipalName: e.userPrincipalName });
      }
    }
  }
  return out;
}
