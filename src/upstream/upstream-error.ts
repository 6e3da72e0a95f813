import type { SourceName } from "./source";

/**
 * What went wrong, in transport terms. `errors/format-error.ts` turns a kind (and, for `http`, the status)
 * into the public error code; nothing below the GraphQL layer knows those codes.
 */
export type UpstreamErrorKind =
  | "http" // the vendor answered with a non-success status
  | "timeout" // our own per-attempt timeout or the request deadline
  | "network" // connection refused, reset, DNS
  | "parse" // the body was not JSON, or not the documented shape
  | "pending" // ESET still answered 202 when the deadline came
  | "rate-limited" // a Retry-After longer than the time left, or no rate-limit slot before the deadline
  | "circuit-open" // the source failed repeatedly; we are not calling it for a while
  | "not-configured" // the source has no credentials
  | "over-price"; // the operation already made as many calls as it was priced at (Deadline.callBudget)

/** Where the failing call went: the token endpoint or the API itself. A 400 from a token endpoint is a credential problem. */
export type UpstreamPhase = "token" | "api";

export interface UpstreamErrorDetails {
  phase?: UpstreamPhase;
  status?: number;
  upstreamCode?: string;
  upstreamRequestId?: string;
  /** Seconds the vendor asked us to wait (429 Retry-After). */
  retryAfter?: number;
  /** For a 403: the vendor permission the endpoint needs (Defender: `Machine.Read.All`, …), named in the message. */
  requiredPermission?: string;
  /** For "over-price": the calls the operation was priced at. */
  priced?: number;
  cause?: unknown;
}

/** An upstream call failed. The message is for logs: it never holds a token, a secret or a request body. */
export class UpstreamError extends Error {
  override readonly name = "UpstreamError";
  readonly phase: UpstreamPhase;
  readonly status?: number;
  readonly upstreamCode?: string;
  readonly upstreamRequestId?: string;
  readonly retryAfter?: number;
  readonly requiredPermission?: string;
  readonly priced?: number;

  constructor(
    readonly source: SourceName,
    readonly kind: UpstreamErrorKind,
    message: string,
    details: UpstreamErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.phase = details.phase ?? "api";
    this.status = details.status;
    this.upstreamCode = details.upstreamCode;
    this.upstreamRequestId = details.upstreamRequestId;
    this.retryAfter = details.retryAfter;
    this.requiredPermission = details.requiredPermission;
    this.priced = details.priced;
  }
}
