import type { ErrorReason } from "./gen/authn/v1/auth_service_pb.js";

/** The reason names of the contract's ErrorReason enum, without the `ERROR_REASON_` prefix. */
export type Reason = Exclude<keyof typeof ErrorReason, "UNSPECIFIED">;

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
