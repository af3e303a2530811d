import { setTimeout as delay } from "node:timers/promises";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { inject } from "vitest";
import { createDynamoClient } from "../../src/store/client.js";
import { generateSigningKey } from "../../src/tokens/signing-key.js";
import { createTestTables, startTestService, TestClock, type TestService } from "./service.js";

/**
 * Faults injected into a service's own DynamoDB client by SDK middleware: the service code, the SDK's
 * retry strategy and DynamoDB Local stay real.
 */
export class StoreFaults {
  /** Added to every attempt, so calls stay in flight long enough to cut them. */
  delayMs = 0;
  /** Each attempt fails with this SDK error name while set (the request never reaches the store). */
  failWith: string | undefined;
  /**
   * The next attempt of this command (e.g. "UpdateItemCommand") reaches the store, then its
   * response is lost as on a request timeout: the store has applied it and the SDK retries.
   */
  loseNextResponseOf: string | undefined;
  /** How many attempts the SDK made (retries included). */
  attempts = 0;
  #inFlight = 0;

  /** Inside the SDK's retry loop (deserialize step), so it sees every attempt. */
  install(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        this.attempts += 1;
        this.#inFlight += 1;
        try {
          if (this.delayMs > 0) await delay(this.delayMs);
          if (this.failWith !== undefined) {
            const name = this.failWith;
            throw Object.assign(new Error(`injected ${name}`), { name, $fault: "client", $metadata: { httpStatusCode: 400 } });
          }
          const result = await next(args);
          if (this.loseNextResponseOf === context.commandName) {
            this.loseNextResponseOf = undefined;
            throw Object.assign(new Error("injected lost response"), { name: "TimeoutError", $metadata: {} });
          }
          return result;
        } finally {
          this.#inFlight -= 1;
        }
      },
      { step: "deserialize", name: "storeFaults" },
    );
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Resolves once no store request has been in flight for `quietMs`: the service has finished its work. */
  async settled(quietMs = 500, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let quietSince = Date.now();
    while (Date.now() - quietSince < quietMs) {
      if (Date.now() > deadline) throw new Error(`store still busy after ${timeoutMs} ms`);
      await delay(20);
      if (this.#inFlight > 0) quietSince = Date.now();
    }
  }
}

/** A service on fresh tables of the run's DynamoDB Local whose own client carries `faults`. */
export async function startFaultyService(faults: StoreFaults): Promise<TestService> {
  const { dynamo: tablesClient, tablePrefix } = await createTestTables();
  tablesClient.destroy();
  const dynamo = createDynamoClient({ endpoint: inject("dynamoEndpoint"), region: "us-east-1", localCredentials: true });
  faults.install(dynamo);
  return startTestService({ dynamo, tablePrefix, signingKey: await generateSigningKey(), clock: new TestClock() });
}
