import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { metrics } from "@opentelemetry/api";

const meter = metrics.getMeter("dynauthn");

/** Per operation, retries included, with the error's name (e.g. throttling) when it failed. */
const operationDuration = meter.createHistogram("db.client.operation.duration", {
  description: "Duration of DynamoDB operations as the service saw them, retries included",
  unit: "s",
  advice: { explicitBucketBoundaries: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] },
});

/**
 * Measures every command the client sends (the OpenTelemetry database client metric). The
 * instrumentation's spans show single calls; this shows latency, errors and throttles over time.
 */
export function measureDynamoDb(client: DynamoDBClient): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const started = performance.now();
      let errorType: string | undefined;
      try {
        return await next(args);
      } catch (err) {
        errorType = err instanceof Error ? err.name : "unknown";
        throw err;
      } finally {
        operationDuration.record((performance.now() - started) / 1000, {
          "db.system.name": "dynamodb",
          "db.operation.name": context.commandName?.replace(/Command$/, "") ?? "unknown",
          ...(errorType ? { "error.type": errorType } : {}),
        });
      }
    },
    // Replicas in one process may share a client: measure it once.
    { step: "initialize", name: "dynauthnOperationMetrics", override: true },
  );
}
