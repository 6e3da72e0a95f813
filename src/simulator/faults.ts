/**
 * Which simulated endpoint a fault applies to. "defender" is every Defender API path; the endpoint
 * families narrow it (see DefenderFamily in simulator.ts):
 * - "defender-users": GET /api/users/{id}, /api/machines/{id}/logonusers, /api/alerts/{id}/user
 * - "defender-machines": GET /api/machines, /api/machines/{id}, /api/users/{id}/machines, /api/alerts/{id}/machine
 * - "defender-alerts": GET /api/alerts, /api/alerts/{id}, /api/users/{id}/alerts, /api/machines/{id}/alerts
 */
export type FaultTarget =
  "defender" | "defender-users" | "defender-machines" | "defender-alerts" | "eset" | "defender-token" | "eset-token";

/**
 * One injected misbehaviour. Faults are consumed in the order they were injected; each applies to the
 * next `times` matching requests (default 1).
 */
export interface Fault {
  target: FaultTarget;
  /** Only requests whose raw path contains this (e.g. "batchGetUsers", or an encoded id). */
  pathIncludes?: string;
  /** Only this Defender endpoint (e.g. "alerts.list", "users.alerts"); see DefenderEndpoint in simulator.ts. */
  endpoint?: string;
  times?: number;
  /**
   * - status: answer `status` with the vendor's error body (or `body`) and `headers`
   * - bad-json: 200 with a body that is not JSON
   * - wrong-shape: 200 with JSON that is not the documented shape
   * - pending: ESET's 202 + response-id, `polls` times, then the real answer on the resend
   * - reset: destroy the connection without answering
   * - hang: never answer (the client must time out)
   * - delay: answer normally after `delayMs`
   */
  kind: "status" | "bad-json" | "wrong-shape" | "pending" | "reset" | "hang" | "delay";
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  polls?: number;
  delayMs?: number;
}

export interface ActiveFault extends Fault {
  remaining: number;
}
