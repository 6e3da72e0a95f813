/** Which simulated endpoint a fault applies to. */
export type FaultTarget = "defender" | "eset" | "defender-token" | "eset-token";

/**
 * One injected misbehaviour. Faults are consumed in the order they were injected; each applies to the
 * next `times` matching requests (default 1).
 */
export interface Fault {
  target: FaultTarget;
  /** Only requests whose raw path contains this (e.g. "batchGetUsers", or an encoded id). */
  pathIncludes?: string;
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
