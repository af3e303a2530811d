import { ConditionalCheckFailedException, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { AuthError } from "../errors.js";

const THROTTLING = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  "LimitExceededException",
]);

/** A transaction cancelled because one of its conditions failed: the caller decides. */
function isTransactionConflict(err: unknown): boolean {
  return (
    err instanceof TransactionCanceledException &&
    (err.CancellationReasons ?? []).some((r) => r.Code === "ConditionalCheckFailed")
  );
}

/** A failed conditional write: the caller decides what it means. */
export function isConditionFailure(err: unknown): err is ConditionalCheckFailedException {
  return err instanceof ConditionalCheckFailedException;
}

/**
 * Maps an SDK failure (after the SDK's own retries) to the service's store reasons: throttling is
 * RESOURCE_EXHAUSTED, anything that says the store cannot serve us is UNAVAILABLE. The SDK error
 * travels as `cause` for the log, never to the caller.
 */
export function storeFailure(err: unknown): AuthError {
  const name = err instanceof Error ? err.name : "";
  if (THROTTLING.has(name)) {
    return withCause(new AuthError("STORE_THROTTLED", "credential store is throttling; retry with backoff"), err);
  }
  return withCause(new AuthError("STORE_UNAVAILABLE", "credential store unavailable"), err);
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
    if (isConditionFailure(err) || isTransactionConflict(err) || err instanceof AuthError) throw err;
    throw storeFailure(err);
  }
}
