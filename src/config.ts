import { z } from "zod";
import { DEFAULT_ATTESTATION_POLICY } from "./attestation/policy.js";
import { type BeginLimitSettings, DEFAULT_BEGIN_LIMITS } from "./limits/begin-limit-settings.js";
import { DEFAULT_FAILURE_AUDIT, type FailureAuditSettings } from "./audit/failure-sampler.js";
import { DEFAULT_MAX_REQUEST_BYTES, MIN_REQUEST_BYTES } from "./transport/request-size.js";
import type { CallerPolicy } from "./callers/policy.js";
import { STEP_UP_DEFAULTS, type StepUpSettings } from "./step-up/defaults.js";
import { EXT_AUTHZ_CLIENT_IP_SOURCES } from "./step-up/ext-authz-client-ip.js";
import { isWebOrigin } from "./tenants/url-forms.js";
import { MAX_CHALLENGE_TTL_SECONDS, MAX_GRANT_TTL_SECONDS, MAX_SESSION_TTL_SECONDS } from "./lifetimes.js";
import { DEFAULT_TRANSPORT_LIMITS as TRANSPORT, type TransportLimits } from "./server-limits/transport-limits.js";
import {
  passkeyEndpointUrlSchema,
  relatedOriginSchema,
  RP_ID_PATTERN,
  readTenantsFile,
  TENANT_ID_MESSAGE,
  TENANT_ID_PATTERN,
  tenantConfigsOf,
  TenantsFileError,
} from "./tenants/tenants-file.js";
import type { TenantConfig, TenantDefaults } from "./tenants/tenant-config.js";
import { relatedOriginsIssues } from "./tenants/related-origins.js";
import type { TelemetrySettings } from "./telemetry/sdk.js";
import { DEFAULT_VERIFIED_TOKEN_CACHE_MAX } from "./tokens/verified-tokens.js";
import { DEFAULT_AUDIT_RETENTION_DAYS } from "./store/audit-retention.js";
import { SUPPORTED_ALGORITHMS } from "./webauthn/algorithms.js";
import { DEFAULT_ASSERTION_POLICY } from "./webauthn/assertion-policy.js";

/**
 * The only reader of process.env. Every variable is validated at start; a bad value stops the
 * service with a message that names the variable.
 */

const port = z.coerce.number().int().min(0).max(65_535);
const seconds = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** A limit's count; 0 turns it off. */
const count = z.coerce.number().int().min(0).max(1_000_000);
const flag = z.enum(["true", "false"]).transform((v) => v === "true");
const optionalPath = z.string().min(1).optional();

const origin = z.string().refine(isWebOrigin, "must be an origin such as https://app.example.com (scheme, host, optional port; no path)");
const commaList = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean));

const envSchema = z.object({
  PORT: port.default(50051),
  HOST: z.string().min(1).default("0.0.0.0"),
  RP_ID: z
    .string()
    .regex(RP_ID_PATTERN, "must be a registrable domain such as example.com or localhost")
    .default("localhost"),
  RP_NAME: z.string().min(1).max(128).default("dynauthn"),
  RP_ORIGINS: commaList("http://localhost:8080").pipe(z.array(origin).min(1)),
  /** Origins on other sites that use RP_ID (WebAuthn Level 3 related origins), served at /.well-known/webauthn. */
  RP_RELATED_ORIGINS: commaList("").pipe(z.array(relatedOriginSchema)),
  /** The passkey endpoints document (/.well-known/passkey-endpoints): served when either is set. */
  PASSKEY_ENROLL_URL: passkeyEndpointUrlSchema.optional(),
  PASSKEY_MANAGE_URL: passkeyEndpointUrlSchema.optional(),
  TENANT_ID: z
    .string()
    .regex(TENANT_ID_PATTERN, TENANT_ID_MESSAGE)
    .default("default"),
  /** The tenants file (tenants and caller policy); replaces RP_ID, RP_NAME, RP_ORIGINS, RP_RELATED_ORIGINS, PASSKEY_*_URL and TENANT_ID. */
  DYNAUTHN_CONFIG_FILE: optionalPath,
  CONFIG_RELOAD_SECONDS: seconds(0, 86_400).default(30),
  DYNAMODB_ENDPOINT: z.url().optional(),
  AWS_REGION: z.string().min(1).default("us-east-1"),
  TABLE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{0,200}$/, "may hold only letters, digits, '_', '-' and '.'")
    .default("dynauthn-"),
  CREATE_TABLES: flag.optional(),
  DYNAMODB_EMBEDDED: flag.optional(),
  CHALLENGE_TTL_SECONDS: seconds(10, MAX_CHALLENGE_TTL_SECONDS).default(300),
  SESSION_TTL_SECONDS: seconds(60, MAX_SESSION_TTL_SECONDS).default(3600),
  SIGNING_KEY_FILE: optionalPath,
  SIGNING_KEYS_DIR: optionalPath,
  SERVER_SECRETS_FILE: optionalPath,
  KEY_RELOAD_SECONDS: seconds(0, 86_400).default(60),
  KEY_ROTATION_DAYS: seconds(1, 3650).default(365),
  STEP_UP_GRANT_TTL_SECONDS: seconds(10, MAX_GRANT_TTL_SECONDS).default(STEP_UP_DEFAULTS.grantTtlSeconds),
  STEP_UP_GRANT_HEADER: z
    .string()
    .regex(/^[a-z0-9-]{1,64}$/, "must be a lower-case HTTP header name")
    .default(STEP_UP_DEFAULTS.evidenceHeader),
  EXT_AUTHZ_CLIENT_IP: z.enum(EXT_AUTHZ_CLIENT_IP_SOURCES).default(STEP_UP_DEFAULTS.extAuthzClientIp.from),
  EXT_AUTHZ_XFF_TRUSTED_HOPS: z.coerce.number().int().min(1).max(16).default(STEP_UP_DEFAULTS.extAuthzClientIp.xffTrustedHops),
  DATA_DIR: optionalPath,
  TLS_CERT_FILE: optionalPath,
  TLS_KEY_FILE: optionalPath,
  TLS_CLIENT_CA_FILE: optionalPath,
  CREDENTIAL_CACHE_TTL_SECONDS: seconds(0, 3600).default(30),
  VERIFIED_TOKEN_CACHE_MAX_ENTRIES: count.default(DEFAULT_VERIFIED_TOKEN_CACHE_MAX),
  AUDIT_RETENTION_DAYS: seconds(1, 3650).default(DEFAULT_AUDIT_RETENTION_DAYS),
  SESSION_REVOCATION_STALENESS_SECONDS: seconds(0, 3600).default(30),
  SHUTDOWN_GRACE_SECONDS: seconds(0, 300).default(20),
  CRL_FETCH_TIMEOUT_MS: seconds(100, 30_000).default(2000),
  // Begin limits per replica (0 = unlimited); see BeginLimitSettings.
  BEGIN_LIMIT_PER_CALLER: count.default(DEFAULT_BEGIN_LIMITS.perCaller),
  BEGIN_LIMIT_PER_USER: count.default(DEFAULT_BEGIN_LIMITS.perUser),
  BEGIN_LIMIT_PER_IP: count.default(DEFAULT_BEGIN_LIMITS.perIp),
  BEGIN_LIMIT_WINDOW_SECONDS: seconds(1, 3600).default(DEFAULT_BEGIN_LIMITS.windowSeconds),
  BEGIN_LIMIT_OUTSTANDING_PER_USER: count.default(DEFAULT_BEGIN_LIMITS.outstandingPerUser),
  // Failure events written per replica (0 = no cap); see FailureSampler.
  AUDIT_FAILURES_PER_SOURCE: count.default(DEFAULT_FAILURE_AUDIT.perSource),
  AUDIT_FAILURES_TOTAL: count.default(DEFAULT_FAILURE_AUDIT.total),
  AUDIT_FAILURES_WINDOW_SECONDS: seconds(1, 3600).default(DEFAULT_FAILURE_AUDIT.windowSeconds),
  // Every gRPC/Connect message; a credential's JSON (at most 64 KiB) must fit.
  MAX_REQUEST_BYTES: z.coerce.number().int().min(MIN_REQUEST_BYTES).max(16 * 1024 * 1024).default(DEFAULT_MAX_REQUEST_BYTES),
  // Transport limits; see TransportLimits.
  HANDSHAKE_TIMEOUT_SECONDS: seconds(1, 300).default(TRANSPORT.handshakeTimeoutMs / 1000),
  HTTP_HEADERS_TIMEOUT_SECONDS: seconds(1, 300).default(TRANSPORT.headersTimeoutMs / 1000),
  HTTP_REQUEST_TIMEOUT_SECONDS: seconds(1, 3600).default(TRANSPORT.requestTimeoutMs / 1000),
  HTTP_IDLE_TIMEOUT_SECONDS: seconds(1, 86_400).default(TRANSPORT.idleTimeoutMs / 1000),
  HTTP2_PING_INTERVAL_SECONDS: seconds(0, 86_400).default(TRANSPORT.pingIntervalMs / 1000),
  HTTP2_PING_TIMEOUT_SECONDS: seconds(1, 300).default(TRANSPORT.pingTimeoutMs / 1000),
  MAX_CONNECTIONS: count.min(1).default(TRANSPORT.maxConnections),
  HTTP2_MAX_CONCURRENT_STREAMS: z.coerce.number().int().min(1).max(10_000).default(TRANSPORT.maxConcurrentStreams),
  MAX_HEADER_BYTES: z.coerce.number().int().min(4096).max(1024 * 1024).default(TRANSPORT.maxHeaderBytes),
  HEALTH_WATCHES_PER_CONNECTION: count.min(1).default(TRANSPORT.watchesPerConnection),
  HEALTH_WATCHES_TOTAL: count.min(1).default(TRANSPORT.watchesTotal),
  MDS_BLOB_FILE: optionalPath,
  MDS_ROOT_CERT_FILE: optionalPath,
  MDS_RELOAD_SECONDS: seconds(0, 86_400).default(3600),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  // The OpenTelemetry SDK reads every OTEL_* variable itself; these only decide whether it starts.
  OTEL_SDK_DISABLED: flag.optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url().optional(),
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: z.url().optional(),
  OTEL_TRACES_EXPORTER: z.string().optional(),
  OTEL_METRICS_EXPORTER: z.string().optional(),
  OTEL_EXPORTER_PROMETHEUS_HOST: z.string().min(1).default("0.0.0.0"),
  OTEL_EXPORTER_PROMETHEUS_PORT: port.optional(),
});

/**
 * The service's settings. Derived from loadConfig's one mapping of the schema below, so a new
 * variable is added in the schema (name, parsing, range, default) and in that mapping only.
 */
export type Config = ReturnType<typeof loadConfig>;

export interface TlsSettings {
  readonly certFile: string;
  readonly keyFile: string;
  /** Set: clients must present a certificate issued by this CA (mTLS). */
  readonly clientCaFile?: string | undefined;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

function isLoopback(endpoint: string | undefined): boolean {
  if (!endpoint) return false;
  const host = new URL(endpoint).hostname;
  return host === "localhost" || host === "[::1]" || host.startsWith("127.");
}

/** True when the environment names real AWS credentials, so no embedded store is wanted. */
function hasAwsCredentials(env: NodeJS.ProcessEnv): boolean {
  return Boolean(
    env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE || env.AWS_CONTAINER_CREDENTIALS_FULL_URI,
  );
}

/**
 * Outside the embedded development default, tokens must be signed with an operator's key, and
 * page tokens and decoy ids need the operator's server secret (the same on every replica).
 */
export function requireOperatorSecrets(config: Config): void {
  if (config.dynamodb.embedded) return;
  const missing = [
    ...(config.signingKeyFile || config.signingKeys.dir ? [] : ["SIGNING_KEY_FILE or SIGNING_KEYS_DIR"]),
    ...(config.serverSecretsFile ? [] : ["SERVER_SECRETS_FILE"]),
  ];
  if (missing.length > 0) {
    throw new ConfigError(`invalid configuration:\n${missing.map((m) => `  ${m}: required outside the embedded development store`).join("\n")}`);
  }
}

function telemetrySettings(e: z.infer<typeof envSchema>, limits: TransportLimits): TelemetrySettings {
  if (e.OTEL_SDK_DISABLED) return { exportFromEnv: false, prometheus: undefined };
  const exportFromEnv = Boolean(
    e.OTEL_EXPORTER_OTLP_ENDPOINT ||
      e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ||
      e.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT ||
      e.OTEL_TRACES_EXPORTER ||
      e.OTEL_METRICS_EXPORTER,
  );
  const port = e.OTEL_EXPORTER_PROMETHEUS_PORT;
  return { exportFromEnv, prometheus: port === undefined ? undefined : { host: e.OTEL_EXPORTER_PROMETHEUS_HOST, port, limits } };
}

/**
 * Without a tenants file the environment defines the one (default) tenant. With one, the file
 * defines every tenant and RP_ID, RP_NAME, RP_ORIGINS, RP_RELATED_ORIGINS, PASSKEY_ENROLL_URL,
 * PASSKEY_MANAGE_URL and TENANT_ID are ignored;
 * CHALLENGE_TTL_SECONDS and SESSION_TTL_SECONDS are the defaults of tenants that set none.
 */
function tenantsOf(
  e: z.infer<typeof envSchema>,
  defaults: TenantDefaults,
): {
  tenant: TenantConfig;
  tenants: readonly TenantConfig[];
  callers: CallerPolicy | undefined;
} {
  if (!e.DYNAUTHN_CONFIG_FILE) {
    const issues = relatedOriginsIssues(e.RP_ID, e.RP_ORIGINS, e.RP_RELATED_ORIGINS);
    if (issues.length > 0) {
      const at = (index: number | undefined) => (index === undefined ? "" : ` ${e.RP_RELATED_ORIGINS[index]}`);
      throw new ConfigError(`invalid configuration:\n${issues.map((i) => `  RP_RELATED_ORIGINS:${at(i.index)} ${i.message}`).join("\n")}`);
    }
    const endpoints = { enroll: e.PASSKEY_ENROLL_URL, manage: e.PASSKEY_MANAGE_URL };
    const tenant: TenantConfig = Object.freeze({
      id: e.TENANT_ID,
      rpId: e.RP_ID,
      rpName: e.RP_NAME,
      origins: Object.freeze([...e.RP_ORIGINS]),
      relatedOrigins: Object.freeze([...e.RP_RELATED_ORIGINS]),
      passkeyEndpoints: endpoints.enroll || endpoints.manage ? Object.freeze(endpoints) : undefined,
      ...defaults,
      attestation: DEFAULT_ATTESTATION_POLICY,
      assertion: DEFAULT_ASSERTION_POLICY,
      userVerification: "preferred",
      algorithms: SUPPORTED_ALGORITHMS,
    });
    return { tenant, tenants: Object.freeze([tenant]), callers: undefined };
  }
  let file;
  try {
    file = readTenantsFile(e.DYNAUTHN_CONFIG_FILE, defaults);
  } catch (err) {
    if (err instanceof TenantsFileError) throw new ConfigError(err.message);
    throw err;
  }
  const { defaultTenant, tenants } = tenantConfigsOf(file);
  return { tenant: defaultTenant, tenants, callers: file.callers };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  if (Boolean(e.TLS_CERT_FILE) !== Boolean(e.TLS_KEY_FILE)) {
    throw new ConfigError("invalid configuration:\n  TLS_CERT_FILE, TLS_KEY_FILE: set both or neither");
  }
  if (e.MDS_ROOT_CERT_FILE && !e.MDS_BLOB_FILE) {
    throw new ConfigError("invalid configuration:\n  MDS_ROOT_CERT_FILE: set only with MDS_BLOB_FILE");
  }
  if (e.TLS_CLIENT_CA_FILE && !e.TLS_CERT_FILE) {
    throw new ConfigError("invalid configuration:\n  TLS_CLIENT_CA_FILE: needs TLS_CERT_FILE and TLS_KEY_FILE");
  }
  if (e.HTTP_HEADERS_TIMEOUT_SECONDS > e.HTTP_REQUEST_TIMEOUT_SECONDS) {
    throw new ConfigError("invalid configuration:\n  HTTP_HEADERS_TIMEOUT_SECONDS: must not exceed HTTP_REQUEST_TIMEOUT_SECONDS");
  }
  if (e.SIGNING_KEY_FILE && e.SIGNING_KEYS_DIR) {
    throw new ConfigError("invalid configuration:\n  SIGNING_KEY_FILE, SIGNING_KEYS_DIR: set one or neither");
  }
  const awsCredentials = hasAwsCredentials(env);
  // DYNAMODB_EMBEDDED=false selects AWS with the SDK's default chain (e.g. an EC2 node role).
  const embedded = !e.DYNAMODB_ENDPOINT && !awsCredentials && e.DYNAMODB_EMBEDDED !== false;
  const tenantDefaults: TenantDefaults = Object.freeze({ challengeTtlSeconds: e.CHALLENGE_TTL_SECONDS, sessionTtlSeconds: e.SESSION_TTL_SECONDS });
  const { tenant, tenants, callers } = tenantsOf(e, tenantDefaults);
  if (callers?.callerIdentity === "mtls" && !e.TLS_CLIENT_CA_FILE && !callers.allowAnonymousCallers) {
    throw new ConfigError(
      `invalid configuration:\n  TLS_CLIENT_CA_FILE: required by the caller policy in ${e.DYNAUTHN_CONFIG_FILE} (or set callers.callerIdentity: xfcc behind a mesh, or callers.allowAnonymousCallers: true)`,
    );
  }
  const transportLimits: TransportLimits = Object.freeze({
    handshakeTimeoutMs: e.HANDSHAKE_TIMEOUT_SECONDS * 1000,
    headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_SECONDS * 1000,
    requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_SECONDS * 1000,
    idleTimeoutMs: e.HTTP_IDLE_TIMEOUT_SECONDS * 1000,
    pingIntervalMs: e.HTTP2_PING_INTERVAL_SECONDS * 1000,
    pingTimeoutMs: e.HTTP2_PING_TIMEOUT_SECONDS * 1000,
    maxConnections: e.MAX_CONNECTIONS,
    maxConcurrentStreams: e.HTTP2_MAX_CONCURRENT_STREAMS,
    maxHeaderBytes: e.MAX_HEADER_BYTES,
    watchesPerConnection: e.HEALTH_WATCHES_PER_CONNECTION,
    watchesTotal: e.HEALTH_WATCHES_TOTAL,
  });
  const tls: TlsSettings | undefined =
    e.TLS_CERT_FILE && e.TLS_KEY_FILE
      ? Object.freeze({ certFile: e.TLS_CERT_FILE, keyFile: e.TLS_KEY_FILE, clientCaFile: e.TLS_CLIENT_CA_FILE })
      : undefined;
  const stepUp: StepUpSettings = Object.freeze({
    grantTtlSeconds: e.STEP_UP_GRANT_TTL_SECONDS,
    evidenceHeader: e.STEP_UP_GRANT_HEADER,
    extAuthzClientIp: Object.freeze({ from: e.EXT_AUTHZ_CLIENT_IP, xffTrustedHops: e.EXT_AUTHZ_XFF_TRUSTED_HOPS }),
  });
  const beginLimits: BeginLimitSettings = Object.freeze({
    perCaller: e.BEGIN_LIMIT_PER_CALLER,
    perUser: e.BEGIN_LIMIT_PER_USER,
    perIp: e.BEGIN_LIMIT_PER_IP,
    windowSeconds: e.BEGIN_LIMIT_WINDOW_SECONDS,
    outstandingPerUser: e.BEGIN_LIMIT_OUTSTANDING_PER_USER,
  });
  const failureAudit: FailureAuditSettings = Object.freeze({
    perSource: e.AUDIT_FAILURES_PER_SOURCE,
    total: e.AUDIT_FAILURES_TOTAL,
    windowSeconds: e.AUDIT_FAILURES_WINDOW_SECONDS,
  });
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    /** The default tenant: what an empty `tenant` field selects. */
    tenant,
    /** Every tenant, the default among them. */
    tenants,
    /** Who may call what (tenants file `callers`); undefined: every caller may call everything. */
    callers,
    /** The tenants file, re-read every `reloadSeconds` (0 = never). */
    tenantsFile: e.DYNAUTHN_CONFIG_FILE
      ? Object.freeze({
          path: e.DYNAUTHN_CONFIG_FILE,
          reloadSeconds: e.CONFIG_RELOAD_SECONDS,
          defaults: tenantDefaults,
        })
      : undefined,
    dynamodb: Object.freeze({
      /** Undefined: start the embedded DynamoDB Local (or use AWS when credentials exist). */
      endpoint: e.DYNAMODB_ENDPOINT,
      embedded,
      /** No AWS credentials configured: sign requests with dummy ones (DynamoDB Local). */
      // Dummy credentials only for DynamoDB Local on this machine, never for a remote endpoint.
      localCredentials: embedded || (!awsCredentials && isLoopback(e.DYNAMODB_ENDPOINT)),
      region: e.AWS_REGION,
      tablePrefix: e.TABLE_PREFIX,
      createTables: e.CREATE_TABLES ?? embedded,
      dataDir: e.DATA_DIR,
    }),
    signingKeyFile: e.SIGNING_KEY_FILE,
    /** A directory of key files named by activation time (a key ring); reloaded every `reloadSeconds`. */
    signingKeys: Object.freeze({
      dir: e.SIGNING_KEYS_DIR,
      reloadSeconds: e.KEY_RELOAD_SECONDS,
      rotationDays: e.KEY_ROTATION_DAYS,
    }),
    /** Page-token and decoy-id secrets, current first (src/server-secrets.ts). */
    serverSecretsFile: e.SERVER_SECRETS_FILE,
    stepUp,
    tls,
    credentialCacheTtlSeconds: e.CREDENTIAL_CACHE_TTL_SECONDS,
    /** Verified session tokens and step-up grants remembered per replica (0: none). */
    verifiedTokenCacheMax: e.VERIFIED_TOKEN_CACHE_MAX_ENTRIES,
    auditRetentionDays: e.AUDIT_RETENTION_DAYS,
    /** How stale a token check's view of session revocation may be. */
    sessionRevocationStalenessSeconds: e.SESSION_REVOCATION_STALENESS_SECONDS,
    shutdownGraceSeconds: e.SHUTDOWN_GRACE_SECONDS,
    crlFetchTimeoutMs: e.CRL_FETCH_TIMEOUT_MS,
    beginLimits,
    failureAudit,
    /** The largest gRPC/Connect message the transport reads. */
    maxRequestBytes: e.MAX_REQUEST_BYTES,
    transportLimits,
    /** The FIDO MDS3 BLOB (and optionally its root) for tenants that verify attestation; see docs/attestation.md. */
    mds: e.MDS_BLOB_FILE
      ? Object.freeze({ blobFile: e.MDS_BLOB_FILE, rootFile: e.MDS_ROOT_CERT_FILE, reloadSeconds: e.MDS_RELOAD_SECONDS })
      : undefined,
    logLevel: e.LOG_LEVEL,
    telemetry: telemetrySettings(e, transportLimits),
  });
}
