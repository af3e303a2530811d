import { DynamoDBClient } from "@aws-sdk/client-dynamodb";

export interface DynamoClientOptions {
  readonly endpoint: string | undefined;
  readonly region: string;
  /** Sign with dummy credentials: DynamoDB Local accepts any, and no AWS credentials are configured. */
  readonly localCredentials: boolean;
  /** Bounds each attempt so an unreachable store turns into UNAVAILABLE instead of a hung RPC. */
  readonly requestTimeoutMs?: number;
  readonly maxAttempts?: number;
}

/**
 * One client per process: it keeps connections alive and retries throttling and transient faults
 * with the SDK's own standard retry strategy (exponential backoff with jitter).
 */
export function createDynamoClient(opts: DynamoClientOptions): DynamoDBClient {
  return new DynamoDBClient({
    region: opts.region,
    endpoint: opts.endpoint,
    maxAttempts: opts.maxAttempts ?? 3,
    retryMode: "standard",
    requestHandler: {
      connectionTimeout: 1_000,
      requestTimeout: opts.requestTimeoutMs ?? 3_000,
      httpAgent: { keepAlive: true, maxSockets: 64 },
      httpsAgent: { keepAlive: true, maxSockets: 64 },
    },
    // Otherwise the SDK's default provider chain (env, profile, web identity, container role).
    ...(opts.localCredentials ? { credentials: { accessKeyId: "local", secretAccessKey: "local" } } : {}),
  });
}
