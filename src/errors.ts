import { Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { ErrorInfoSchema, RetryInfoSchema } from "./gen/google/rpc/error_details_pb.js";
import { ErrorReason } from "./gen/authn/v1/auth_service_pb.js";

/** ErrorInfo.domain of every error the service returns. */
export const ERROR_DOMAIN = "dynauthn.dev";

/** The reason names of the contract's ErrorReason enum, without the `ERROR_REASON_` prefix. */
export type Reason = Exclude<keyof typeof ErrorReason, "UNSPECIFIED">;

const CODE_OF_REASON: Record<Reason, Code> = {
  CHALLENGE_INVALID: Code.Unauthenticated,
  CHALLENGE_EXPIRED: Code.Unauthenticated,
  ORIGIN_MISMATCH: Code.Unauthenticated,
  RP_ID_MISMATCH: Code.Unauthenticated,
  CROSS_ORIGIN_REJECTED: Code.Unauthenticated,
  SIGNATURE_INVALID: Code.Unauthenticated,
  COUNTER_REGRESSION: Code.Unauthenticated,
  CREDENTIAL_UNKNOWN: Code.Unauthenticated,
  USER_MISMATCH: Code.Unauthenticated,
  USER_VERIFICATION_REQUIRED: Code.Unauthenticated,
  USER_PRESENCE_REQUIRED: Code.Unauthenticated,
  ATTESTATION_INVALID: Code.Unauthenticated,
  ALGORITHM_UNSUPPORTED: Code.Unauthenticated,
  CREDENTIAL_REVOKED: Code.Unauthenticated,
  CLIENT_DATA_TYPE_MISMATCH: Code.Unauthenticated,
  ATTESTATION_UNTRUSTED: Code.Unauthenticated,
  AUTHENTICATOR_REVOKED: Code.Unauthenticated,
  AAGUID_NOT_ALLOWED: Code.Unauthenticated,
  BACKUP_ELIGIBLE_REFUSED: Code.Unauthenticated,
  BACKUP_ELIGIBILITY_MISMATCH: Code.Unauthenticated,
  CREDENTIAL_CLONE_SUSPECTED: Code.Unauthenticated,
  CREDENTIAL_EXISTS: Code.AlreadyExists,
  CREDENTIAL_NOT_FOUND: Code.NotFound,
  CREDENTIAL_ALREADY_REVOKED: Code.FailedPrecondition,
  SESSION_NOT_FOUND: Code.NotFound,
  FIELD_INVALID: Code.InvalidArgument,
  CREDENTIAL_MALFORMED: Code.InvalidArgument,
  PAYLOAD_TOO_LARGE: Code.InvalidArgument,
  TENANT_UNKNOWN: Code.InvalidArgument,
  CALLER_NOT_ALLOWED: Code.PermissionDenied,
  STORE_UNAVAILABLE: Code.Unavailable,
  STORE_THROTTLED: Code.ResourceExhausted,
  RATE_LIMITED: Code.ResourceExhausted,
  INTERNAL: Code.Internal,
};

/**
 * A domain failure with a stable reason. Ceremony and store code throw it; the RPC layer turns
 * it into a ConnectError. `message` is safe to return to callers: never put secrets in it.
 */
export class AuthError extends Error {
  override readonly name = "AuthError";
  constructor(
    readonly reason: Reason,
    message: string,
    readonly metadata: Record<string, string> = {},
    /** When set, the error carries a google.rpc.RetryInfo: retry after this many milliseconds. */
    readonly retryDelayMs?: number,
  ) {
    super(message);
  }

  get code(): Code {
    return CODE_OF_REASON[this.reason];
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

/**
 * Maps any thrown value to a ConnectError carrying google.rpc.ErrorInfo. Unknown errors become
 * INTERNAL with a generic message, so no stack trace or internal detail reaches a caller.
 */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  const authError = err instanceof AuthError ? err : new AuthError("INTERNAL", "internal error");
  const errorInfo = {
    desc: ErrorInfoSchema,
    value: create(ErrorInfoSchema, {
      reason: authError.reason,
      domain: ERROR_DOMAIN,
      metadata: authError.metadata,
    }),
  };
  const { retryDelayMs } = authError;
  const details =
    retryDelayMs === undefined
      ? [errorInfo]
      : [errorInfo, { desc: RetryInfoSchema, value: create(RetryInfoSchema, { retryDelay: durationFromMs(retryDelayMs) }) }];
  return new ConnectError(authError.message, authError.code, undefined, details);
}
