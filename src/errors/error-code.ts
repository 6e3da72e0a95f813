/** Stable strings clients may switch on (`errors[].extensions.code`). The README's error table lists them. */
export const ErrorCode = {
  BAD_USER_INPUT: "BAD_USER_INPUT",
  UPSTREAM_PENDING: "UPSTREAM_PENDING",
  UPSTREAM_UNAUTHENTICATED: "UPSTREAM_UNAUTHENTICATED",
  UPSTREAM_FORBIDDEN: "UPSTREAM_FORBIDDEN",
  RATE_LIMITED: "RATE_LIMITED",
  /** The replica is shutting down and answered before its grace period ran out; send the request again. */
  SHUTTING_DOWN: "SHUTTING_DOWN",
  UPSTREAM_ERROR: "UPSTREAM_ERROR",
  UPSTREAM_UNAVAILABLE: "UPSTREAM_UNAVAILABLE",
  UPSTREAM_TIMEOUT: "UPSTREAM_TIMEOUT",
  UPSTREAM_UNREACHABLE: "UPSTREAM_UNREACHABLE",
  UPSTREAM_BAD_RESPONSE: "UPSTREAM_BAD_RESPONSE",
  SOURCE_NOT_CONFIGURED: "SOURCE_NOT_CONFIGURED",
  UNAUTHENTICATED: "UNAUTHENTICATED",
  FORBIDDEN: "FORBIDDEN",
  /** A root field asked by a caller who sees several tenants: name one with `tenant(id:)`. */
  TENANT_REQUIRED: "TENANT_REQUIRED",
  OPERATION_LIMIT_EXCEEDED: "OPERATION_LIMIT_EXCEEDED",
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  BAD_REQUEST: "BAD_REQUEST",
  /** TRUSTED_DOCUMENTS=enforce: the document (sent whole, or named by an APQ hash) is not a registered one. */
  DOCUMENT_NOT_TRUSTED: "DOCUMENT_NOT_TRUSTED",
  /** A `documentId` that names no registered document. */
  DOCUMENT_NOT_FOUND: "DOCUMENT_NOT_FOUND",
  INTERNAL_SERVER_ERROR: "INTERNAL_SERVER_ERROR",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
