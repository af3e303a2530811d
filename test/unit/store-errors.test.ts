import {
  ConditionalCheckFailedException,
  DynamoDBServiceException,
  InternalServerError,
  ItemCollectionSizeLimitExceededException,
  ProvisionedThroughputExceededException,
  RequestLimitExceeded,
  ResourceNotFoundException,
  ThrottlingException,
  TransactionCanceledException,
} from "@aws-sdk/client-dynamodb";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { AuthError } from "../../src/errors.js";
import { codeOf } from "../../src/rpc/connect-error.js";
import { storeCall, storeErrorKind, storeFailure } from "../../src/store/store-errors.js";

const $metadata = (httpStatusCode?: number) => ({ httpStatusCode, attempts: 1, totalRetryDelay: 0 });

/** An error the SDK does not model: a generic service exception carrying DynamoDB's error code. */
function unmodelled(name: string, status: number): DynamoDBServiceException {
  return new DynamoDBServiceException({ name, $fault: status >= 500 ? "server" : "client", $metadata: $metadata(status), message: name });
}

function cancelled(...codes: string[]): TransactionCanceledException {
  return new TransactionCanceledException({
    $metadata: $metadata(400),
    message: "Transaction cancelled",
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
}

/** A network failure as the SDK's node handler reports it: no HTTP status at all. */
const network = (code: string) => Object.assign(new Error(`connect ${code}`), { code, $metadata: $metadata() });

const CASES: [string, unknown, string, Code | "rethrown"][] = [
  ["ConditionalCheckFailed", new ConditionalCheckFailedException({ $metadata: $metadata(400), message: "c" }), "condition", "rethrown"],
  ["TransactionCanceled: a condition failed", cancelled("None", "ConditionalCheckFailed"), "condition", "rethrown"],
  ["TransactionCanceled: TransactionConflict", cancelled("TransactionConflict", "None"), "throttled", Code.ResourceExhausted],
  ["TransactionCanceled: ThrottlingError", cancelled("None", "ThrottlingError"), "throttled", Code.ResourceExhausted],
  ["TransactionCanceled: ValidationError", cancelled("ValidationError"), "rejected", Code.Internal],
  ["TransactionCanceled: ItemCollectionSizeLimitExceeded", cancelled("ItemCollectionSizeLimitExceeded"), "rejected", Code.Internal],
  ["ProvisionedThroughputExceeded", new ProvisionedThroughputExceededException({ $metadata: $metadata(400), message: "p" }), "throttled", Code.ResourceExhausted],
  ["ThrottlingException", new ThrottlingException({ $metadata: $metadata(400), message: "t" }), "throttled", Code.ResourceExhausted],
  ["RequestLimitExceeded", new RequestLimitExceeded({ $metadata: $metadata(400), message: "r" }), "throttled", Code.ResourceExhausted],
  ["ValidationException", unmodelled("ValidationException", 400), "rejected", Code.Internal],
  ["ItemCollectionSizeLimitExceeded", new ItemCollectionSizeLimitExceededException({ $metadata: $metadata(400), message: "i" }), "rejected", Code.Internal],
  ["an SDK serialization TypeError", new TypeError("Cannot read properties of undefined"), "rejected", Code.Internal],
  ["ResourceNotFound (table missing)", new ResourceNotFoundException({ $metadata: $metadata(400), message: "n" }), "misconfigured", Code.Unavailable],
  ["AccessDeniedException", unmodelled("AccessDeniedException", 400), "misconfigured", Code.Unavailable],
  ["UnrecognizedClientException", unmodelled("UnrecognizedClientException", 400), "misconfigured", Code.Unavailable],
  ["ExpiredTokenException", unmodelled("ExpiredTokenException", 400), "misconfigured", Code.Unavailable],
  ["no credentials at all", Object.assign(new Error("Could not load credentials"), { name: "CredentialsProviderError" }), "misconfigured", Code.Unavailable],
  ["InternalServerError", new InternalServerError({ $metadata: $metadata(500), message: "s" }), "outage", Code.Unavailable],
  ["ServiceUnavailable (503)", unmodelled("ServiceUnavailable", 503), "outage", Code.Unavailable],
  ["ECONNREFUSED", network("ECONNREFUSED"), "outage", Code.Unavailable],
  ["ECONNRESET", network("ECONNRESET"), "outage", Code.Unavailable],
  ["a request timeout", Object.assign(new Error("timed out"), { name: "TimeoutError", $metadata: $metadata() }), "outage", Code.Unavailable],
  ["an aborted request", Object.assign(new Error("aborted"), { name: "AbortError", $metadata: $metadata() }), "outage", Code.Unavailable],
];

describe("store error → status mapping (issue 13 sweep)", () => {
  it.each(CASES)("%s is %s", async (_what, err, kind, code) => {
    expect(storeErrorKind(err)).toBe(kind);
    const thrown = await storeCall(() => Promise.reject(err)).catch((e: unknown) => e);
    if (code === "rethrown") {
      expect(thrown).toBe(err);
      return;
    }
    expect(thrown).toBeInstanceOf(AuthError);
    expect(codeOf((thrown as AuthError).reason)).toBe(code);
    // The SDK error stays in the log, never in what the caller sees.
    expect((thrown as { cause?: unknown }).cause).toBe(err);
    expect((thrown as AuthError).message).not.toMatch(/Exception|ECONN|credentials|Transaction/);
  });

  it("tells misconfiguration and request defects apart from outages in ErrorInfo metadata", () => {
    expect(storeFailure(new ResourceNotFoundException({ $metadata: $metadata(400), message: "n" })).metadata).toEqual({ store_error: "misconfigured" });
    expect(storeFailure(unmodelled("ValidationException", 400)).metadata).toEqual({ store_error: "rejected" });
    expect(storeFailure(network("ECONNREFUSED")).metadata).toEqual({});
  });

  it("passes an AuthError thrown inside the call through unchanged", async () => {
    const own = new AuthError("CREDENTIAL_EXISTS", "taken");
    await expect(storeCall(() => Promise.reject(own))).rejects.toBe(own);
  });
});
