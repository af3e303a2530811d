import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { storeErrorKind } from "./store-errors.js";

/** Consecutive outage failures (each after the SDK's own retries) that mark the store down. */
export const STORE_DOWN_AFTER_FAILURES = 3;

/**
 * Reports the store's reachability from every request the service makes anyway: `onChange(false)`
 * after STORE_DOWN_AFTER_FAILURES requests in a row failed for want of a usable store (no
 * response, a 5xx, a missing table or refused credentials: see store-errors.ts), `onChange(true)`
 * at the next request that did not. Other refusals (failed conditions, throttling, validation)
 * show that the store is up and usable. The middleware sits in the
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

/** The store did not answer, or this replica cannot use it (a missing table, refused credentials). */
function isOutage(err: unknown): boolean {
  const kind = storeErrorKind(err);
  return kind === "outage" || kind === "misconfigured";
}
