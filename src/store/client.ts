import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SignatureV4 } from "@smithy/signature-v4";
import type { EndpointV2 } from "@smithy/types";
import { KeepAliveHttpHandler } from "./http-handler.js";
import { useConstantEndpoint, useInheritingSerde } from "./lean-middleware.js";
import { useConstantSigning } from "./lean-signing.js";

export interface DynamoClientOptions {
  readonly endpoint: string | undefined;
  readonly region: string;
  /** Sign with dummy credentials: DynamoDB Local accepts any, and no AWS credentials are configured. */
  readonly localCredentials: boolean;
  /** Bounds each attempt, response body included, so a stalled store turns into UNAVAILABLE instead of a hung RPC. */
  readonly requestTimeoutMs?: number;
  readonly maxAttempts?: number;
}

/** Middleware that does nothing the service needs (bench/NOTES.md: ≈ 4 % of a call for the user agent). */
const UNNEEDED_MIDDLEWARE = [
  // The SDK's user-agent header: only AWS's usage statistics read it.
  "getUserAgentMiddleware",
  // Adds X-Amzn-Trace-Id inside AWS Lambda only; the service runs in a container.
  "recursionDetectionMiddleware",
  // Logs each call through the client's `logger`, which the service never sets.
  "loggerMiddleware",
];

/**
 * One client per process: it keeps connections alive and retries throttling and transient faults
 * with the SDK's own standard retry strategy (exponential backoff with jitter). Set up for the
 * hot path (bench/NOTES.md, "The lean DynamoDB client", measures each part):
 * - `cacheMiddleware`: the middleware stack is resolved once per command class, not per request;
 * - one SignatureV4 for every request, so its cache of derived signing keys is kept (the SDK
 *   builds a new signer, and derives the key again, per request). It asks the client's own
 *   credential provider on every signature, the one the SDK memoizes and refreshes before expiry
 *   (IRSA web identity, container role), so credentials are never frozen;
 * - a constant endpoint: DYNAMODB_ENDPOINT, or the region's endpoint as the SDK's own rules
 *   resolve it, once, instead of evaluating the rules per request (account-id endpoints are
 *   not used: the regional endpoint serves every account);
 * - a lean request handler (./http-handler.ts): keep-alive agents (https for an https endpoint),
 *   one timer per request for the request timeout, the connection timeout armed per connection;
 * - no user-agent, recursion-detection or logger middleware;
 * - no per-request endpoint resolution and no copies of the client config in (de)serialisation,
 *   content-length and host set by the serializer (./lean-middleware.ts; the SDK's protocol,
 *   retries and typed errors are unchanged);
 * - one signing middleware instead of the SDK's auth-scheme and signing pair, which resolved the
 *   same SigV4 scheme and asked for credentials twice per request (./lean-signing.ts: the signer
 *   above, the credentials of the moment, the SDK's clock-skew correction).
 */
export function createDynamoClient(opts: DynamoClientOptions): DynamoDBClient {
  const endpoint = constantEndpoint(opts);
  const client: DynamoDBClient = new DynamoDBClient({
    region: opts.region,
    endpoint: endpoint.url.href,
    endpointProvider: () => endpoint,
    // Otherwise each request resolves the credentials once more, for an account id the constant endpoint never uses.
    accountIdEndpointMode: "disabled",
    maxAttempts: opts.maxAttempts ?? 3,
    retryMode: "standard",
    cacheMiddleware: true,
    requestHandler: new KeepAliveHttpHandler({ connectionTimeoutMs: 1_000, requestTimeoutMs: opts.requestTimeoutMs ?? 3_000, maxSockets: 64 }),
    // Otherwise the SDK's default provider chain (env, profile, web identity, container role).
    ...(opts.localCredentials ? { credentials: { accessKeyId: "local", secretAccessKey: "local" } } : {}),
  });
  // Asks the client's current credential provider at every signature.
  const signer = new SignatureV4({
    credentials: () => client.config.credentials(),
    region: opts.region,
    service: "dynamodb",
    sha256: client.config.sha256,
    uriEscapePath: true,
  });
  client.config.signer = async () => signer;
  for (const name of UNNEEDED_MIDDLEWARE) client.middlewareStack.remove(name);
  useConstantEndpoint(client, endpoint);
  useInheritingSerde(client);
  useConstantSigning(client, signer, opts.region);
  dropMiddlewareCacheOnChange(client);
  return client;
}

/** DYNAMODB_ENDPOINT, or the regional endpoint the SDK's endpoint rules give for `region`. */
function constantEndpoint(opts: DynamoClientOptions): EndpointV2 {
  if (opts.endpoint) return { url: new URL(opts.endpoint) };
  const rules = new DynamoDBClient({ region: opts.region });
  try {
    const { url } = rules.config.endpointProvider({ Region: opts.region, UseFIPS: false, UseDualStack: false, AccountIdEndpointMode: "disabled" });
    return { url };
  } finally {
    rules.destroy();
  }
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
