import { DynamoDBClient } from "@aws-sdk/client-dynamodb";

export interface DynamoClientOptions {
  readonly endpoint: string | undefined;
  readonly region: string;
  /** Bounds each attempt so an unreachable store turns into UNAVAILABLE instead of a hung RPC. */
  readonly requestTimeoutMs?: number;
  readonly maxAttempts?: number;
}

/**
 * One client per process: it keeps connections alive and retries throttling and transient faults
 * with the SDK's own standard retry strategy (exponential backoff with jitter).
 */
export function createDynamoClient(opts: DynamoClientOptions): DynamoDBClient {
  const local = opts.endpoint !== undefined && !process.env.AWS_ACCESS_KEY_ID;
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
    // DynamoDB Local accepts any credentials; real endpoints use the default provider chain.
    ...(local ? { credentials: { accessKeyId: "local", secretAccessKey: "local" } } : {}),
  });
}
