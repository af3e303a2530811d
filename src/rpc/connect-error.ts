import { Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { AuthError, statusOf, type Reason, type Status } from "../errors.js";
import { ErrorInfoSchema, RetryInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import { BrowserSignalSchema } from "../gen/authn/v1/auth_service_pb.js";

/** A google.rpc.Status detail as ConnectError takes it. */
type DetailMessage = NonNullable<ConstructorParameters<typeof ConnectError>[3]>[number];

/** ErrorInfo.domain of every error the service returns. */
export const ERROR_DOMAIN = "dynauthn.dev";

/** The status each refusal is answered with, as its Connect code. */
const CODE_OF_STATUS: Record<Status, Code> = {
  unauthenticated: Code.Unauthenticated,
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  failed_precondition: Code.FailedPrecondition,
  permission_denied: Code.PermissionDenied,
  resource_exhausted: Code.ResourceExhausted,
  unavailable: Code.Unavailable,
  internal: Code.Internal,
};

/** The status code a refusal with this reason is answered with. */
export function codeOf(reason: Reason): Code {
  return CODE_OF_STATUS[statusOf(reason)];
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
  const { retryDelayMs, signal } = authError;
  const details: DetailMessage[] = [errorInfo];
  if (retryDelayMs !== undefined) details.push({ desc: RetryInfoSchema, value: create(RetryInfoSchema, { retryDelay: durationFromMs(retryDelayMs) }) });
  if (signal !== undefined) details.push({ desc: BrowserSignalSchema, value: create(BrowserSignalSchema, signal) });
  return new ConnectError(authError.message, codeOf(authError.reason), undefined, details);
}
