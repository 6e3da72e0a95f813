import type { UnknownEnumReporter } from "../../../graphql/normalize";
import { bool, date, str, strList } from "../../../graphql/normalize";
import { isObject } from "../../../upstream/json-shape";
import type { DefenderMachineDto } from "../dto";
import { defenderEnum } from "../enum-value";
import { MachineExposureLevel, MachineHealthStatus, MachineRiskScore } from "./machine.enums";
import type { DefenderMachine } from "./machine.type";

const mapped = new WeakMap<DefenderMachineDto, DefenderMachine>();

/** Defender wire machine → DefenderMachine. Pure; memoised by DTO identity, so a cached DTO is mapped once. */
export function toDefenderMachine(dto: DefenderMachineDto, report: UnknownEnumReporter): DefenderMachine {
  let machine = mapped.get(dto);
  if (machine === undefined) mapped.set(dto, (machine = map(dto, report)));
  return machine;
}

function map(dto: DefenderMachineDto, report: UnknownEnumReporter): DefenderMachine {
  return {
    id: dto.id,
    computerDnsName: str(dto.computerDnsName),
    osPlatform: str(dto.osPlatform),
    osVersion: str(dto.version),
    osBuild: int64(dto.osBuild),
    osArchitecture: str(dto.osArchitecture),
    firstSeen: date(dto.firstSeen),
    lastSeen: date(dto.lastSeen),
    lastIpAddress: str(dto.lastIpAddress),
    lastExternalIpAddress: str(dto.lastExternalIpAddress),
    healthStatus: defenderEnum(dto.healthStatus, "MachineHealthStatus", MachineHealthStatus, MachineHealthStatus.UNSPECIFIED, report),
    riskScore: defenderEnum(dto.riskScore, "MachineRiskScore", MachineRiskScore, MachineRiskScore.UNSPECIFIED, report),
    exposureLevel: defenderEnum(dto.exposureLevel, "MachineExposureLevel", MachineExposureLevel, MachineExposureLevel.UNSPECIFIED, report),
    deviceValue: str(dto.deviceValue),
    onboardingStatus: str(dto.onboardingStatus) ?? str(dto.onboardingstatus),
    rbacGroupId: str(dto.rbacGroupId),
    rbacGroupName: str(dto.rbacGroupName),
    aadDeviceId: str(dto.aadDeviceId),
    isAadJoined: bool(dto.isAadJoined),
    machineTags: strList(dto.machineTags),
    ipAddresses: Array.isArray(dto.ipAddresses)
      ? dto.ipAddresses
          .filter(isObject)
          .map((a) => ({ ipAddress: str(a.ipAddress), macAddress: str(a.macAddress), operationalStatus: str(a.operationalStatus) }))
      : [],
  };
}

/**
 * An int64 as an exact decimal string. The lossless parser hands over numbers only when they are safe
 * integers, and larger ones as their digits, so nothing is rounded on the way.
 */
export function int64(v: unknown): string | null {
  if (typeof v === "number") return Number.isSafeInteger(v) ? String(v) : null;
  if (typeof v === "string" && /^-?\d+$/.test(v)) return v.replace(/^(-?)0+(?=\d)/, "$1");
  return null;
}
