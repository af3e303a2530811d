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
  const client = new DynamoDBClient({
    region: opts.region,
    endpoint: opts.endpoint,
    maxAttempts: opts.maxAttempts ?? 3,
    retryMode: "standard",
    // Resolve the middleware stack once per command class, not per request (≈ 90 µs CPU a call).
    cacheMiddleware: true,
    requestHandler: {
      connectionTimeout: 1_000,
      requestTimeout: opts.requestTimeoutMs ?? 3_000,
      httpAgent: { keepAlive: true, maxSockets: 64 },
      httpsAgent: { keepAlive: true, maxSockets: 64 },
    },
    // Otherwise the SDK's default provider chain (env, profile, web identity, container role).
    ...(opts.localCredentials ? { credentials: { accessKeyId: "local", secretAccessKey: "local" } } : {}),
  });
  dropMiddlewareCacheOnChange(client);
  return client;
}

const STACK_CHANGES = ["add", "addRelativeTo", "use", "remove", "removeByTag"] as const;

/**
 * With cacheMiddleware the SDK would silently skip middleware added (or keep middleware removed)
 * after a command class was first sent, and the service adds its store-health and metrics
 * middleware after createTables has sent commands (replicas in one process share a client too).
 * So every change to the client's stack drops the SDK's cache of resolved handlers (the client's
 * `handlers` field; test/integration/dynamo-client.test.ts fails if an SDK release renames it).
 */
function dropMiddlewareCacheOnChange(client: DynamoDBClient): void {
  const stack = client.middlewareStack as unknown as Record<(typeof STACK_CHANGES)[number], (...args: unknown[]) => unknown>;
  for (const change of STACK_CHANGES) {
    const original = stack[change].bind(stack);
    stack[change] = (...args: unknown[]) => {
      delete (client as unknown as { handlers?: unknown }).handlers;
      return original(...args);
    };
  }
}
