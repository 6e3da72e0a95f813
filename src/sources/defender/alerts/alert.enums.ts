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
    UNSPECIFIED: {
      description:
        "usergraph's fallback: Defender sent no status, or one usergraph does not know yet. Not Defender's Unknown (that is UNKNOWN); refused as a filter value.",
    },
    UNKNOWN: {
      description:
        "Defender's own status Unknown, as Defender sends it and filters on it (status eq 'Unknown'). Not usergraph's fallback (that is UNSPECIFIED).",
    },
    NEW: { description: "New: nobody has looked at it yet." },
    IN_PROGRESS: { description: "Being investigated." },
    RESOLVED: { description: "Resolved." },
  },
});
