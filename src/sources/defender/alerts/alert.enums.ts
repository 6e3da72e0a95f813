import { registerEnumType } from "type-graphql";

/** Defender alert `severity` (alerts.md), upper-case; the wire's `UnSpecified` is UNSPECIFIED. */
export enum AlertSeverity {
  UNSPECIFIED = "UNSPECIFIED",
  INFORMATIONAL = "INFORMATIONAL",
  LOW = "LOW",
  MEDIUM = "MEDIUM",
  HIGH = "HIGH",
}

/** Defender alert `status` (alerts.md), upper-case. UNSPECIFIED: no value, or one usergraph does not know; UNKNOWN is Defender's own value. */
export enum AlertStatus {
  UNSPECIFIED = "UNSPECIFIED",
  UNKNOWN = "UNKNOWN",
  NEW = "NEW",
  IN_PROGRESS = "IN_PROGRESS",
  RESOLVED = "RESOLVED",
}

registerEnumType(AlertSeverity, {
  name: "AlertSeverity",
  description: "Severity of the alert (Defender alert severity).",
  valuesConfig: {
    UNSPECIFIED: { description: "Defender's UnSpecified, no value, or a value usergraph does not know yet." },
    INFORMATIONAL: { description: "Informational." },
    LOW: { description: "Low." },
    MEDIUM: { description: "Medium." },
    HIGH: { description: "High." },
  },
});

registerEnumType(AlertStatus, {
  name: "AlertStatus",
  description: "Current status of the alert (Defender alert status).",
  valuesConfig: {
    UNSPECIFIED: { description: "Fallback: Defender sent no status, or one usergraph does not know yet." },
    UNKNOWN: { description: "Defender's own Unknown status." },
    NEW: { description: "New: nobody has looked at it yet." },
    IN_PROGRESS: { description: "Being investigated." },
    RESOLVED: { description: "Resolved." },
  },
});
