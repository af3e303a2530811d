import type { ErrorReason } from "./gen/authn/v1/auth_service_pb.js";

/** The reason names of the contract's ErrorReason enum, without the `ERROR_REASON_` prefix. */
export type Reason = Exclude<keyof typeof ErrorReason, "UNSPECIFIED">;

/** The canonical status a refusal is answered with (google.rpc.Code), named apart from any transport. */
export type Status =
  | "unauthenticated"
  | "invalid_argument"
  | "not_found"
  | "already_exists"
  | "failed_precondition"
  | "permission_denied"
  | "resource_exhausted"
  | "unavailable"
  | "internal";

const STATUS_OF_REASON: Record<Reason, Status> = {
  CHALLENGE_INVALID: "unauthenticated",
  CHALLENGE_EXPIRED: "unauthenticated",
  ORIGIN_MISMATCH: "unauthenticated",
  RP_ID_MISMATCH: "unauthenticated",
  CROSS_ORIGIN_REJECTED: "unauthenticated",
  SIGNATURE_INVALID: "unauthenticated",
  COUNTER_REGRESSION: "unauthenticated",
  CREDENTIAL_UNKNOWN: "unauthenticated",
  USER_MISMATCH: "unauthenticated",
  USER_VERIFICATION_REQUIRED: "unauthenticated",
  USER_PRESENCE_REQUIRED: "unauthenticated",
  ATTESTATION_INVALID: "unauthenticated",
  ALGORITHM_UNSUPPORTED: "unauthenticated",
  CREDENTIAL_REVOKED: "unauthenticated",
  CLIENT_DATA_TYPE_MISMATCH: "unauthenticated",
  ATTESTATION_UNTRUSTED: "unauthenticated",
  AUTHENTICATOR_REVOKED: "unauthenticated",
  AAGUID_NOT_ALLOWED: "unauthenticated",
  BACKUP_ELIGIBLE_REFUSED: "unauthenticated",
  BACKUP_ELIGIBILITY_MISMATCH: "unauthenticated",
  CREDENTIAL_CLONE_SUSPECTED: "unauthenticated",
  CREDENTIAL_EXISTS: "already_exists",
  CREDENTIAL_NOT_FOUND: "not_found",
  CREDENTIAL_ALREADY_REVOKED: "failed_precondition",
  SESSION_NOT_FOUND: "not_found",
  USER_NOT_FOUND: "not_found",
  FIELD_INVALID: "invalid_argument",
  CREDENTIAL_MALFORMED: "invalid_argument",
  PAYLOAD_TOO_LARGE: "invalid_argument",
  TENANT_UNKNOWN: "invalid_argument",
  CALLER_NOT_ALLOWED: "permission_denied",
  STORE_UNAVAILABLE: "unavailable",
  STORE_THROTTLED: "resource_exhausted",
  RATE_LIMITED: "resource_exhausted",
  INTERNAL: "internal",
};

/** A reason's status: e.g. whether a refusal is a verification failure (unauthenticated). */
export function statusOf(reason: Reason): Status {
  return STATUS_OF_REASON[reason];
}

/**
 * A domain failure with a stable reason. WebAuthn, ceremony and store code throw it; the RPC layer
 * turns it into a ConnectError (rpc/connect-error.ts), so this file knows no transport and pure
 * code may throw it. `message` is safe to return to callers: never put secrets in it.
 */
export class AuthError extends Error {
  override readonly name = "AuthError";
  constructor(
    readonly reason: Reason,
    message: string,
    readonly metadata: Record<string, string> = {},
    /** When set, the error carries a google.rpc.RetryInfo: retry after this many milliseconds. */
    readonly retryDelayMs?: number,
    /** When set, the error carries an authn.v1.BrowserSignal: a Signal API call for the browser (webauthn/signals.ts). */
    readonly signal?: { readonly method: string; readonly optionsJson: string },
  ) {
    super(message);
  }
}

/** Verification failed: UNAUTHENTICATED with a reason. */
export function unauthenticated(reason: Reason, message: string): AuthError {
  return new AuthError(reason, message);
}

/** A request field is missing or malformed. */
export function invalidField(field: string, message: string): AuthError {
  return new AuthError("FIELD_INVALID", `${field}: ${message}`, { field });
}
