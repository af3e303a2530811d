import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { AuthError } from "../errors.js";

/**
 * What a failed store request means, decided once here for every caller (docs/operations.md,
 * "Store errors"):
 * - `condition`: a condition of ours failed; the calling code decides what that means.
 * - `throttled`: capacity or contention (a concurrent transaction on the same item); retrying
 *   later can succeed → RESOURCE_EXHAUSTED / STORE_THROTTLED.
 * - `outage`: no answer (network, timeout) or a 5xx → UNAVAILABLE / STORE_UNAVAILABLE.
 * - `misconfigured`: a table is missing or the credentials are refused: this replica cannot
 *   serve until an operator acts → UNAVAILABLE / STORE_UNAVAILABLE, `store_error: misconfigured`.
 * - `rejected`: the store refused the request itself (ValidationException and every other 4xx),
 *   or the SDK could not build it. Every client input is validated before it reaches the store,
 *   so this is the service's defect, never an outage → INTERNAL, `store_error: rejected`.
 */
export type StoreErrorKind = "condition" | "throttled" | "outage" | "misconfigured" | "rejected";

const THROTTLED = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  "LimitExceededException",
  "TransactionInProgressException",
]);

/** The table or the identity the service uses is wrong; no retry helps. */
const MISCONFIGURED = new Set([
  "ResourceNotFoundException",
  "AccessDeniedException",
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "ExpiredTokenException",
  "InvalidSignatureException",
  "IncompleteSignatureException",
  "MissingAuthenticationTokenException",
  "CredentialsProviderError",
]);

/** TransactionCanceledException's per-item codes (CancellationReason.Code). */
const THROTTLED_ITEM = new Set(["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"]);

interface SdkErrorShape {
  readonly name?: unknown;
  readonly $fault?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly CancellationReasons?: readonly { readonly Code?: string }[];
}

/**
 * Classifies by the error's name (the service's error code), not its class: errors the SDK does
 * not model arrive as a generic ServiceException with that name.
 */
export function storeErrorKind(err: unknown): StoreErrorKind {
  const e = (typeof err === "object" && err !== null ? err : {}) as SdkErrorShape;
  const name = typeof e.name === "string" ? e.name : "";
  if (name === "ConditionalCheckFailedException") return "condition";
  if (name === "TransactionCanceledException") return transactionKind(e.CancellationReasons ?? []);
  if (THROTTLED.has(name)) return "throttled";
  if (MISCONFIGURED.has(name)) return "misconfigured";
  // The SDK could not even build the request from what the service passed it.
  if (err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError) return "rejected";
  const status = e.$metadata?.httpStatusCode;
  // A 4xx is the store's answer to this request; no status (network error, timeout, abort) or a
  // 5xx means it could not answer.
  if (e.$fault === "client" || (status !== undefined && status >= 400 && status < 500)) return "rejected";
  return "outage";
}

/** One item's reason decides; a failed condition first, since then the caller must decide. */
function transactionKind(reasons: readonly { readonly Code?: string }[]): StoreErrorKind {
  const codes = reasons.map((r) => r.Code ?? "None");
  if (codes.includes("ConditionalCheckFailed")) return "condition";
  if (codes.some((c) => THROTTLED_ITEM.has(c))) return "throttled";
  if (codes.every((c) => c === "None")) return "outage";
  // ValidationError, ItemCollectionSizeLimitExceeded (only with local secondary indexes, which
  // no table has) and codes DynamoDB may add: the request, not the store.
  return "rejected";
}

/** A failed conditional write: the caller decides what it means. */
export function isConditionFailure(err: unknown): err is ConditionalCheckFailedException {
  return err instanceof ConditionalCheckFailedException;
}

/**
 * Maps an SDK failure (after the SDK's own retries) to the service's store reasons. The SDK error
 * travels as `cause` for the log, never to the caller.
 */
export function storeFailure(err: unknown): AuthError {
  switch (storeErrorKind(err)) {
    case "throttled":
      return withCause(new AuthError("STORE_THROTTLED", "credential store is throttling; retry with backoff"), err);
    case "misconfigured":
      return withCause(
        new AuthError("STORE_UNAVAILABLE", "credential store unavailable: misconfigured", { store_error: "misconfigured" }),
        err,
      );
    case "rejected":
      return withCause(new AuthError("INTERNAL", "internal error", { store_error: "rejected" }), err);
    default:
      return withCause(new AuthError("STORE_UNAVAILABLE", "credential store unavailable"), err);
  }
}

function withCause(error: AuthError, cause: unknown): AuthError {
  Object.defineProperty(error, "cause", { value: cause, enumerable: false });
  return error;
}

/** Runs one store request, turning SDK failures (not condition failures) into AuthErrors. */
export async function storeCall<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (err) {
    if (err instanceof AuthError || storeErrorKind(err) === "condition") throw err;
    throw storeFailure(err);
  }
}
