import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { storeFailure } from "./store-errors.js";

/** Consecutive outage failures (each after the SDK's own retries) that mark the store down. */
export const STORE_DOWN_AFTER_FAILURES = 3;

/**
 * Reports the store's reachability from every request the service makes anyway: `onChange(false)`
 * after STORE_DOWN_AFTER_FAILURES requests in a row failed for want of a store (no response, or
 * a 5xx), `onChange(true)` at the next request the store answered. Refusals the store made itself
 * (failed conditions, throttling, validation) show that it is up. The middleware sits in the
 * initialize step, outside the SDK's retry loop, so it sees each request's final outcome once.
 */
export function watchStoreHealth(client: DynamoDBClient, onChange: (up: boolean) => void): void {
  let failures = 0;
  let up = true;
  const report = (nowUp: boolean) => {
    if (nowUp !== up) onChange((up = nowUp));
  };
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        const result = await next(args);
        failures = 0;
        report(true);
        return result;
      } catch (err) {
        if (isOutage(err)) {
          failures += 1;
          if (failures >= STORE_DOWN_AFTER_FAILURES) report(false);
        } else {
          failures = 0;
          report(true);
        }
        throw err;
      }
    },
    { step: "initialize", priority: "high" },
  );
}

function isOutage(err: unknown): boolean {
  if (storeFailure(err).reason !== "STORE_UNAVAILABLE") return false;
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === undefined || status >= 500;
}
