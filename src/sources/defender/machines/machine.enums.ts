import { registerEnumType } from "type-graphql";

/** Defender machine `healthStatus` (machine.md), upper-case. */
export enum MachineHealthStatus {
  UNSPECIFIED = "UNSPECIFIED",
  ACTIVE = "ACTIVE",
  INACTIVE = "INACTIVE",
  IMPAIRED_COMMUNICATION = "IMPAIRED_COMMUNICATION",
  NO_SENSOR_DATA = "NO_SENSOR_DATA",
  NO_SENSOR_DATA_IMPAIRED_COMMUNICATION = "NO_SENSOR_DATA_IMPAIRED_COMMUNICATION",
  UNKNOWN = "UNKNOWN",
}

/** Defender machine `riskScore` (machine.md; nullable on the wire), upper-case. */
export enum MachineRiskScore {
  UNSPECIFIED = "UNSPECIFIED",
  NONE = "NONE",
  INFORMATIONAL = "INFORMATIONAL",
  LOW = "LOW",
  MEDIUM = "MEDIUM",
  HIGH = "HIGH",
}

/** Defender machine `exposureLevel` (machine.md; nullable on the wire), upper-case. */
export enum MachineExposureLevel {
  UNSPECIFIED = "UNSPECIFIED",
  NONE = "NONE",
  LOW = "LOW",
  MEDIUM = "MEDIUM",
  HIGH = "HIGH",
}

const FALLBACK = "Fallback: Defender sent no value (the property is nullable), or one usergraph does not know yet.";

registerEnumType(MachineHealthStatus, {
  name: "MachineHealthStatus",
  description: "Status of the machine's sensor (Defender machine healthStatus).",
  valuesConfig: {
    UNSPECIFIED: { description: FALLBACK },
    ACTIVE: { description: "The sensor reports normally." },
    INACTIVE: { description: "The machine stopped reporting for more than 7 days." },
    IMPAIRED_COMMUNICATION: { description: "The sensor's communication is impaired." },
    NO_SENSOR_DATA: { description: "The sensor sends no data." },
    NO_SENSOR_DATA_IMPAIRED_COMMUNICATION: { description: "No sensor data, and impaired communication." },
    UNKNOWN: {
      description:
        "Defender's own value Unknown: Defender does not know the sensor's status. Not usergraph's fallback (that is UNSPECIFIED).",
    },
  },
});

registerEnumType(MachineRiskScore, {
  name: "MachineRiskScore",
  description: "Risk score of the machine as evaluated by Defender (machine riskScore).",
  valuesConfig: {
    UNSPECIFIED: { description: FALLBACK },
    NONE: { description: "No risk." },
    INFORMATIONAL: { description: "Informational." },
    LOW: { description: "Low risk." },
    MEDIUM: { description: "Medium risk." },
    HIGH: { description: "High risk." },
  },
});

registerEnumType(MachineExposureLevel, {
  name: "MachineExposureLevel",
  description: "Exposure level of the machine as evaluated by Defender (machine exposureLevel).",
  valuesConfig: {
    UNSPECIFIED: { description: FALLBACK },
    NONE: { description: "No exposure." },
    LOW: { description: "Low exposure." },
    MEDIUM: { description: "Medium exposure." },
    HIGH: { description: "High exposure." },
  },
});
