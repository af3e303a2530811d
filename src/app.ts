import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Logger } from "pino";
import { Caches } from "./ceremonies/credential-cache.js";
import { type BeginLimitSettings, DEFAULT_BEGIN_LIMITS } from "./limits/begin-limit-settings.js";
import { DEFAULT_FAILURE_AUDIT, type FailureAuditSettings, FailureSampler } from "./audit/failure-sampler.js";
import { BeginLimits } from "./limits/begin-limits.js";
import { AssertionCore } from "./ceremonies/assertion-core.js";
import { AuthenticationCeremony } from "./ceremonies/authentication.js";
import { CredentialLifecycle } from "./ceremonies/credential-lifecycle.js";
import { RegistrationCeremony } from "./ceremonies/registration.js";
import { Sessions } from "./ceremonies/sessions.js";
import { callerContextValues } from "./callers/caller-context.js";
import { type CallerPolicy, CallerAuthorizer } from "./callers/policy.js";
import { Auditor } from "./audit/auditor.js";
import { AuditTrail } from "./audit/audit-trail.js";
import { credentialOwner } from "./ceremonies/audit-facts.js";
import type { TenantConfig } from "./tenants/tenant-config.js";
import type { MdsCatalogSource } from "./attestation/mds-reloader.js";
import { ProviderNames } from "./attestation/provider-names.js";
import { requireMetadataFor } from "./attestation/enforce.js";
import { callerPolicyInterceptor } from "./rpc/caller-interceptor.js";
import { routes } from "./rpc/routes.js";
import type { ServerSecrets } from "./server-secrets.js";
import { errorInterceptor } from "./rpc/error-interceptor.js";
import { measureDynamoDb } from "./telemetry/dynamodb-metrics.js";
import { observeMdsBlobFreshness, observeSigningKeyAge } from "./telemetry/metrics.js";
import { telemetryInterceptor } from "./telemetry/rpc-interceptor.js";
import { HealthState } from "./rpc/health.js";
import { type RunningServer, startServer } from "./transport/server.js";
import { DEFAULT_TRANSPORT_LIMITS, type TransportLimits } from "./transport/limits.js";
import { createStore } from "./store/index.js";
import { watchStoreHealth } from "./store/store-health.js";
import { STEP_UP_DEFAULTS, type StepUpSettings } from "./step-up/defaults.js";
import { OperationVerifier } from "./step-up/verify-operation.js";
import { VerifiedTokens } from "./tokens/verified-tokens.js";
import { JWKS_PATH, jwksHttpHandler } from "./tokens/jwks.js";
import { KeyRing } from "./tokens/key-ring.js";
import type { SigningKey } from "./tokens/signing-key.js";
import { Tenants } from "./tenants/tenants.js";

export interface AppOptions {
  readonly dynamo: DynamoDBClient;
  readonly tablePrefix: string;
  /** The default tenant (an empty `tenant` field). */
  readonly tenant: TenantConfig;
  /** Every tenant of a tenants file (the default may be among them). */
  readonly tenants?: readonly TenantConfig[];
  /** Who may call what; undefined: everyone may call everything. */
  readonly callers?: CallerPolicy | undefined;
  /** A fixed single key (tests); ignored when `keyRing` is given. */
  readonly signingKey?: SigningKey;
  /** The rotating key ring (main.ts); one of signingKey and keyRing is required. */
  readonly keyRing?: KeyRing;
  /** MACs audit page tokens and derives decoy credential ids; the same on every replica. */
  readonly serverSecrets: ServerSecrets;
  readonly logger: Logger;
  readonly credentialCacheTtlSeconds: number;
  /** Verified tokens remembered (default DEFAULT_VERIFIED_TOKEN_CACHE_MAX; 0: none). */
  readonly verifiedTokenCacheMax?: number;
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly clientCaFile?: string | undefined } | undefined;
  readonly clock?: () => number;
  readonly auditRetentionDays?: number;
  /** How stale a token check's view of session revocation may be. */
  readonly sessionRevocationStalenessSeconds?: number;
  /** Step-up grants' lifetime (default 300 s) and the ext_authz header that carries step-up evidence. */
  readonly stepUp?: Partial<StepUpSettings>;
  /** Limits on Begin calls, per replica (default DEFAULT_BEGIN_LIMITS). */
  readonly beginLimits?: BeginLimitSettings;
  /** Failure events written per source and in all, per replica (default DEFAULT_FAILURE_AUDIT). */
  readonly failureAudit?: FailureAuditSettings;
  /** The largest gRPC/Connect message read (default DEFAULT_MAX_REQUEST_BYTES). */
  readonly maxRequestBytes?: number;
  /** Timeouts, connections, streams, header sizes and Watch streams (default DEFAULT_TRANSPORT_LIMITS). */
  readonly transportLimits?: TransportLimits;
  /** The verified FIDO MDS BLOB in use; required when a tenant's attestation conveyance is direct/enterprise. */
  readonly mds?: MdsCatalogSource | undefined;
}

export interface App {
  readonly server: RunningServer;
  readonly health: HealthState;
  readonly caches: Caches;
  /** Session revocation, for token checks. */
  readonly sessions: Sessions;
  /** The signing key ring (tests rotate it with replace()). */
  readonly keys: KeyRing;
  /** The cache of verified tokens over `keys`. */
  readonly tokens: VerifiedTokens;
  /** The tenants and caller policy in use; a reloaded tenants file replaces their contents. */
  readonly tenants: Tenants;
  readonly callerAuthorizer: CallerAuthorizer | undefined;
}

/** The AuthService name as health checks know it. */
export const AUTH_SERVICE_NAME = "authn.v1.AuthService";

/** Wires config-free dependencies into a listening server; main.ts and the tests both use it. */
export async function startApp(opts: AppOptions, port: number, host: string): Promise<App> {
  const tenants = new Tenants(opts.tenant, opts.tenants);
  requireMetadataFor(tenants.all(), opts.mds !== undefined);
  const mds = opts.mds ?? (() => undefined);
  const providerNames = new ProviderNames(mds);
  const caches = new Caches({ userListTtlSeconds: opts.credentialCacheTtlSeconds });
  const store = createStore(opts.dynamo, opts.tablePrefix, opts.auditRetentionDays);
  const stepUp = { ...STEP_UP_DEFAULTS, ...opts.stepUp };
  const keys = keyRingOf(opts);
  const clock = opts.clock ?? Date.now;
  const auditor = new Auditor({
    trail: store.audit,
    failureAudit: new FailureSampler(opts.failureAudit ?? DEFAULT_FAILURE_AUDIT, clock),
    clock,
    logger: opts.logger,
    credentialOwner: (tenant, credentialId) => credentialOwner({ caches, store }, tenant, credentialId),
  });
  const deps = {
    store,
    caches,
    keys,
    logger: opts.logger,
    clock,
    limits: new BeginLimits(opts.beginLimits ?? DEFAULT_BEGIN_LIMITS, clock),
    auditor,
    decoyKey: opts.serverSecrets.decoyKey,
  };
  const sessions = new Sessions(deps, opts.sessionRevocationStalenessSeconds ?? 30);
  const tokens = new VerifiedTokens(keys, opts.verifiedTokenCacheMax);
  const callerAuthorizer = opts.callers ? new CallerAuthorizer(opts.callers) : undefined;
  const assertions = new AssertionCore(deps, mds);
  const authentication = new AuthenticationCeremony(deps, assertions, sessions);
  const verifier = new OperationVerifier({ ...deps, grantTtlSeconds: stepUp.grantTtlSeconds, revocations: sessions, tokens }, authentication, assertions);
  observeSigningKeyAge(keys, deps.clock);
  if (opts.mds) observeMdsBlobFreshness(opts.mds, deps.clock);
  measureDynamoDb(opts.dynamo);
  const transportLimits = opts.transportLimits ?? DEFAULT_TRANSPORT_LIMITS;
  const health = new HealthState(transportLimits);
  health.setServing(AUTH_SERVICE_NAME, true);
  // The AuthService cannot serve without its store; the whole server ("") stays SERVING so that
  // liveness probes do not restart pods for an outage a restart cannot fix.
  watchStoreHealth(opts.dynamo, (up) => health.setServing(AUTH_SERVICE_NAME, up));
  const server = await startServer(
    {
      routes: routes(
        {
          tenants,
          registration: new RegistrationCeremony(deps, { mds, providerNames }),
          authentication,
          lifecycle: new CredentialLifecycle(deps, sessions),
          sessions,
          auditTrail: new AuditTrail(store.audit, opts.serverSecrets.pageTokenKeys),
          providerNames,
        },
        health,
        { tenants, verifier, keys, clock: deps.clock, evidenceHeader: stepUp.evidenceHeader, extAuthzClientIp: stepUp.extAuthzClientIp },
      ),
      httpRoutes: { [JWKS_PATH]: jwksHttpHandler(keys, deps.clock) },
      // Telemetry outermost: its span covers the error interceptor's logging and sees its ConnectError.
      // The caller policy innermost: its refusals are logged and mapped like any other.
      interceptors: [
        telemetryInterceptor(),
        errorInterceptor(opts.logger),
        ...(callerAuthorizer ? [callerPolicyInterceptor({ authorizer: callerAuthorizer, tenants, auditor, logger: opts.logger })] : []),
      ],
      tls: opts.tls,
      readMaxBytes: opts.maxRequestBytes,
      limits: transportLimits,
      contextValues: callerContextValues(opts.callers),
    },
    port,
    host,
  );
  return { server, health, caches, sessions, keys, tokens, tenants, callerAuthorizer };
}

function keyRingOf(opts: AppOptions): KeyRing {
  if (opts.keyRing) return opts.keyRing;
  if (opts.signingKey) return new KeyRing([opts.signingKey]);
  throw new Error("startApp needs a signingKey or a keyRing");
}
