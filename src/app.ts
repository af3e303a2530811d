import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Logger } from "pino";
import { Caches } from "./ceremonies/credential-cache.js";
import { FailureSampler } from "./audit/failure-sampler.js";
import { BeginLimits } from "./limits/begin-limits.js";
import { AssertionCore } from "./ceremonies/assertion-core.js";
import { AuthenticationCeremony } from "./ceremonies/authentication.js";
import { CredentialLifecycle } from "./ceremonies/credential-lifecycle.js";
import { RegistrationCeremony } from "./ceremonies/registration.js";
import { Sessions } from "./ceremonies/sessions.js";
import { callerContextValues } from "./callers/caller-context.js";
import { CallerAuthorizer } from "./callers/policy.js";
import { Auditor } from "./audit/auditor.js";
import { AuditTrail } from "./audit/audit-trail.js";
import { credentialOwner } from "./ceremonies/audit-facts.js";
import type { Config } from "./config.js";
import type { MdsCatalogSource } from "./attestation/mds-reloader.js";
import { ProviderNames } from "./attestation/provider-names.js";
import { requireMetadataFor } from "./attestation/enforce.js";
import { callPipeline } from "./rpc/call-pipeline.js";
import { callerPolicyStage } from "./rpc/caller-policy-stage.js";
import { routes } from "./rpc/routes.js";
import type { ServerSecrets } from "./server-secrets.js";
import { errorStage } from "./rpc/error-stage.js";
import { measureDynamoDb } from "./telemetry/dynamodb-metrics.js";
import { observeMdsBlobFreshness, observeSigningKeyAge } from "./telemetry/metrics.js";
import { telemetryStage } from "./telemetry/rpc-stage.js";
import { HealthState } from "./rpc/health.js";
import { type RunningServer, startServer } from "./transport/server.js";
import { createStore } from "./store/index.js";
import { watchStoreHealth } from "./store/store-health.js";
import { OperationVerifier } from "./step-up/verify-operation.js";
import { VerifiedTokens } from "./tokens/verified-tokens.js";
import { JWKS_PATH, jwksHttpHandler } from "./tokens/jwks.js";
import { KeyRing } from "./tokens/key-ring.js";
import type { SigningKey } from "./tokens/signing-key.js";
import { Tenants } from "./tenants/tenants.js";
import { wellKnownRoutes } from "./tenants/well-known.js";

/**
 * The Config values the app reads, with the Config's types and defaults: main.ts passes its
 * Config; tests start from loadConfig({}) (test/support/service.ts).
 */
export type AppSettings = Pick<
  Config,
  | "tenant"
  | "tenants"
  | "callers"
  | "tls"
  | "credentialCacheTtlSeconds"
  | "verifiedTokenCacheMax"
  | "auditRetentionDays"
  | "sessionRevocationStalenessSeconds"
  | "stepUp"
  | "beginLimits"
  | "failureAudit"
  | "maxRequestBytes"
  | "transportLimits"
>;

/** AppSettings and what main.ts builds from them (store client, keys, secrets, logger), or tests inject. */
export interface AppOptions extends AppSettings {
  readonly dynamo: DynamoDBClient;
  readonly tablePrefix: string;
  /** A fixed single key (tests); ignored when `keyRing` is given. */
  readonly signingKey?: SigningKey;
  /** The rotating key ring (main.ts); one of signingKey and keyRing is required. */
  readonly keyRing?: KeyRing;
  /** MACs audit page tokens and derives decoy credential ids; the same on every replica. */
  readonly serverSecrets: ServerSecrets;
  readonly logger: Logger;
  readonly clock?: () => number;
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
  const keys = keyRingOf(opts);
  const clock = opts.clock ?? Date.now;
  const auditor = new Auditor({
    trail: store.audit,
    failureAudit: new FailureSampler(opts.failureAudit, clock),
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
    limits: new BeginLimits(opts.beginLimits, clock),
    auditor,
    decoyKey: opts.serverSecrets.decoyKey,
  };
  const sessions = new Sessions(deps, opts.sessionRevocationStalenessSeconds);
  const tokens = new VerifiedTokens(keys, opts.verifiedTokenCacheMax);
  const callerAuthorizer = opts.callers ? new CallerAuthorizer(opts.callers) : undefined;
  const assertions = new AssertionCore(deps, mds);
  const authentication = new AuthenticationCeremony(deps, assertions, sessions, (rpId) => tenants.all().filter((t) => t.rpId === rpId));
  const verifier = new OperationVerifier({ ...deps, grantTtlSeconds: opts.stepUp.grantTtlSeconds, revocations: sessions, tokens }, authentication, assertions);
  observeSigningKeyAge(keys, deps.clock);
  if (opts.mds) observeMdsBlobFreshness(opts.mds, deps.clock);
  measureDynamoDb(opts.dynamo);
  const health = new HealthState(opts.transportLimits);
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
        { tenants, verifier, keys, clock: deps.clock, evidenceHeader: opts.stepUp.evidenceHeader, extAuthzClientIp: opts.stepUp.extAuthzClientIp },
      ),
      httpRoutes: { [JWKS_PATH]: jwksHttpHandler(keys, deps.clock), ...wellKnownRoutes(tenants) },
      // Telemetry outermost: its span covers the error stage's logging and sees its ConnectError.
      // The caller policy innermost: its refusals are logged and mapped like any other.
      pipeline: callPipeline(
        telemetryStage,
        errorStage(opts.logger),
        ...(callerAuthorizer ? [callerPolicyStage({ authorizer: callerAuthorizer, tenants, auditor, logger: opts.logger })] : []),
      ),
      tls: opts.tls,
      readMaxBytes: opts.maxRequestBytes,
      limits: opts.transportLimits,
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
