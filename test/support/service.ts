import { randomBytes } from "node:crypto";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createClient, type Client } from "@connectrpc/connect";
import type * as grpc from "@grpc/grpc-js";
import { createConnectTransport } from "@connectrpc/connect-node";
import type { Logger } from "pino";
import { inject } from "vitest";
import { startApp, type App, type AppOptions, type AppSettings } from "../../src/app.js";
import { loadConfig } from "../../src/config.js";
import type { CallerPolicy } from "../../src/callers/policy.js";
import type { TenantConfig } from "../../src/tenants/tenant-config.js";
import { AuthService } from "../../src/gen/authn/v1/auth_service_pb.js";
import { createLogger } from "../../src/logger.js";
import { createDynamoClient } from "../../src/store/client.js";
import { createTables, tableNames } from "../../src/store/tables.js";
import { grpcJsClient } from "./grpc-js-client.js";
import type { KeyRing } from "../../src/tokens/key-ring.js";
import type { BeginLimitSettings } from "../../src/limits/begin-limit-settings.js";
import type { FailureAuditSettings } from "../../src/audit/failure-sampler.js";
import { DEFAULT_ATTESTATION_POLICY } from "../../src/attestation/policy.js";
import { DEFAULT_ASSERTION_POLICY } from "../../src/webauthn/assertion-policy.js";
import type { MdsCatalog } from "../../src/attestation/mds-blob.js";
import { SUPPORTED_ALGORITHMS } from "../../src/webauthn/algorithms.js";
import type { TransportLimits } from "../../src/server-limits/transport-limits.js";
import { generateSigningKey, type SigningKey } from "../../src/tokens/signing-key.js";
import { ephemeralServerSecrets, type ServerSecrets } from "../../src/server-secrets.js";

export const ORIGIN = "http://localhost:8080";

/** The service's defaults, from the config schema (an empty environment); tests override what they test. */
export const APP_DEFAULTS: AppSettings = loadConfig({});

export const TEST_TENANT: TenantConfig = {
  id: "default",
  rpId: "localhost",
  rpName: "dynauthn test",
  origins: [ORIGIN],
  challengeTtlSeconds: 300,
  sessionTtlSeconds: 600,
  attestation: DEFAULT_ATTESTATION_POLICY,
  assertion: DEFAULT_ASSERTION_POLICY,
  userVerification: "preferred",
  algorithms: SUPPORTED_ALGORITHMS,
};

/** Real time plus an offset the test moves by hand (epoch ms), so events still order by time. */
export class TestClock {
  private offset = 0;
  readonly read = () => Date.now() + this.offset;
  advance(ms: number): void {
    this.offset += ms;
  }
}

export interface TestService {
  readonly app: App;
  readonly address: string;
  readonly baseUrl: string;
  readonly connect: Client<typeof AuthService>;
  /** A grpc-js client over HTTP/2 for the same service; closed with the service. */
  readonly grpc: grpc.Client;
  readonly dynamo: DynamoDBClient;
  readonly tablePrefix: string;
  readonly signingKey: SigningKey;
  readonly serverSecrets: ServerSecrets;
  readonly clock: TestClock;
  close(): Promise<void>;
}

/** Fresh tables for one test file, on the run's shared DynamoDB Local. */
export async function createTestTables(): Promise<{ dynamo: DynamoDBClient; tablePrefix: string }> {
  const dynamo = createDynamoClient({ endpoint: inject("dynamoEndpoint"), region: "us-east-1", localCredentials: true });
  const tablePrefix = `t${randomBytes(4).toString("hex")}-`;
  await createTables(dynamo, tableNames(tablePrefix));
  return { dynamo, tablePrefix };
}

/**
 * The whole service on 127.0.0.1:0 with a Connect (HTTP/1.1, JSON) and a grpc-js client. Pass
 * `shared` to run a second replica on the same tables and signing key, or a rotating `keyRing`.
 */
export async function startTestService(
  shared?: Pick<TestService, "dynamo" | "tablePrefix" | "signingKey" | "clock"> & Partial<Pick<TestService, "serverSecrets">>,
  overrides: {
    /** Default: the shared service's, or new ones. */
    serverSecrets?: ServerSecrets;
    credentialCacheTtlSeconds?: number;
    sessionRevocationStalenessSeconds?: number;
    tenant?: TenantConfig;
    keyRing?: KeyRing;
    beginLimits?: BeginLimitSettings;
    failureAudit?: FailureAuditSettings;
    maxRequestBytes?: number;
    transportLimits?: TransportLimits;
    logger?: Logger;
    mds?: MdsCatalog;
    /** More tenants beside the default one, and the caller policy / TLS of a tenants file. */
    tenants?: readonly TenantConfig[];
    callers?: CallerPolicy;
    tls?: AppOptions["tls"];
    stepUp?: Partial<AppOptions["stepUp"]>;
  } = {},
): Promise<TestService> {
  const { dynamo, tablePrefix } = shared ?? (await createTestTables());
  const clock = shared?.clock ?? new TestClock();
  const signingKey = shared?.signingKey ?? overrides.keyRing?.signingKey(clock.read()) ?? (await generateSigningKey());
  const serverSecrets = overrides.serverSecrets ?? shared?.serverSecrets ?? ephemeralServerSecrets();
  const app = await startApp(
    {
      dynamo,
      tablePrefix,
      ...APP_DEFAULTS,
      tenant: overrides.tenant ?? TEST_TENANT,
      tenants: overrides.tenants ?? [],
      callers: overrides.callers,
      tls: overrides.tls,
      ...(overrides.keyRing ? { keyRing: overrides.keyRing } : { signingKey }),
      serverSecrets,
      logger: overrides.logger ?? createLogger("silent"),
      credentialCacheTtlSeconds: overrides.credentialCacheTtlSeconds ?? APP_DEFAULTS.credentialCacheTtlSeconds,
      sessionRevocationStalenessSeconds: overrides.sessionRevocationStalenessSeconds ?? APP_DEFAULTS.sessionRevocationStalenessSeconds,
      clock: clock.read,
      beginLimits: overrides.beginLimits ?? APP_DEFAULTS.beginLimits,
      failureAudit: overrides.failureAudit ?? APP_DEFAULTS.failureAudit,
      maxRequestBytes: overrides.maxRequestBytes ?? APP_DEFAULTS.maxRequestBytes,
      stepUp: { ...APP_DEFAULTS.stepUp, ...overrides.stepUp },
      transportLimits: overrides.transportLimits ?? APP_DEFAULTS.transportLimits,
      mds: overrides.mds && (() => overrides.mds),
    },
    0,
    "127.0.0.1",
  );
  const address = `127.0.0.1:${app.server.address.port}`;
  const baseUrl = `http://${address}`;
  const grpcClient = grpcJsClient(AuthService, address);
  const connect = createClient(AuthService, createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: false }));
  return {
    app,
    address,
    baseUrl,
    connect,
    dynamo,
    tablePrefix,
    signingKey,
    serverSecrets,
    clock,
    grpc: grpcClient,
    close: async () => {
      grpcClient.close();
      await app.server.close(1000);
    },
  };
}

/** Two replicas of the service on one store (same tables, signing key, server secret and clock). */
export async function startReplicas(): Promise<[TestService, TestService]> {
  const a = await startTestService();
  return [a, await startTestService(a)];
}

export async function closeAll(...services: (TestService | undefined)[]): Promise<void> {
  await Promise.all(services.map((s) => s?.close()));
}
