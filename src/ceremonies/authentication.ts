import { Caches } from "./credential-cache.js";
import type { TenantConfig } from "../tenants/tenant-config.js";
import { mergeFacts, type CallContext } from "../audit/audit-event.js";
import type { CredentialDescriptor } from "../webauthn/ceremony.js";
import { ceremonyChoices, type CeremonyRequest } from "../webauthn/ceremony-profile.js";
import { decoyCredentials } from "../webauthn/decoy-credentials.js";
import { requestOptions, type RequestOptionsJSON } from "../webauthn/options.js";
import type { AuthenticationExtensionInputs } from "../webauthn/extensions.js";
import { countCacheLookup } from "../telemetry/metrics.js";
import type { AcceptedAssertion, AssertionCore } from "./assertion-core.js";
import { beginCeremony } from "./challenges.js";
import type { CeremonyDeps } from "./deps.js";
import type { BeginResult } from "./registration.js";
import type { Sessions } from "./sessions.js";
import { AuthError } from "../errors.js";
import { unknownCredentialSignal } from "../webauthn/signals.js";
import { credentialIdHint, credentialOwner } from "./audit-facts.js";

export interface SignIn {
  readonly userId: string;
  readonly credentialId: string;
  readonly userVerified: boolean;
  readonly sessionToken: string;
  readonly authTime: number;
  readonly expiresAt: number;
}

/**
 * BeginAuthentication: no DynamoDB request on a warm cache (the challenge is sealed), one Query
 * for a user's credential list on a miss. FinishAuthentication: 3 (the challenge's consumed
 * marker and the conditional counter update, both in AssertionCore, then the audit event that is
 * also the session record), plus one GetItem when the credential is not cached, plus a
 * best-effort failure event when refused, plus, for CREDENTIAL_UNKNOWN only, one GetItem per
 * other tenant sharing the RP ID (none in the usual one-tenant-per-RP-ID setup).
 */
export class AuthenticationCeremony {

  constructor(
    private readonly deps: CeremonyDeps,
    /** Checks and records the assertion a finish carries (shared with step-up). */
    private readonly assertions: AssertionCore,
    /** Opens the session an accepted sign-in earns. */
    private readonly sessions: Pick<Sessions, "open">,
    /** The tenants configured now with this RP ID (the browser knows passkeys by RP ID alone). */
    private readonly tenantsOfRpId: (rpId: string) => readonly TenantConfig[],
  ) {}

  async begin(
    tenant: TenantConfig,
    userId: string | undefined,
    /** User verification and hints asked for, and the profile (attachment, resident key and algorithms do not apply). */
    request: CeremonyRequest,
    call: CallContext,
    operationDigest?: string,
    extensions?: AuthenticationExtensionInputs,
  ): Promise<BeginResult<RequestOptionsJSON>> {
    this.deps.limits.admit(tenant, operationDigest ? "step-up" : "authentication", userId, call);
    const { userVerification, timeoutMs, hints } = ceremonyChoices(tenant, request);
    const allowCredentials = userId === undefined ? [] : await this.allowCredentials(tenant, userId);
    // With an operation the challenge is bound to it: only VerifyOperation accepts the assertion.
    const { challenge, expiresAt } = beginCeremony(this.deps, tenant, {
      kind: operationDigest ? "step-up" : "authentication",
      userId,
      userHandle: undefined,
      userVerification,
      beganBy: call,
      operationDigest,
    });
    const options = requestOptions({
      rpId: tenant.rpId,
      challenge,
      timeoutMs,
      allowCredentials,
      userVerification,
      hints,
      extensions,
    });
    return { options, expiresAt };
  }

  /** The user's credentials, or decoys for an unknown user so the answer has the same shape. */
  private async allowCredentials(tenant: TenantConfig, userId: string): Promise<CredentialDescriptor[]> {
    const { store, caches, decoyKey } = this.deps;
    const key = Caches.key(tenant.id, userId);
    let list = caches.userCredentials?.get(key);
    if (caches.userCredentials) countCacheLookup("user_credentials", list !== undefined);
    if (!list) {
      list = await store.credentials.listForUser(tenant.id, userId);
      caches.userCredentials?.set(key, list);
    }
    return list.length > 0 ? list : decoyCredentials(decoyKey, tenant.id, userId);
  }

  async finish(tenant: TenantConfig, credentialJson: string, call: CallContext): Promise<SignIn> {
    try {
      return await this.assertions.accept(tenant, { kind: "authentication", credentialJson }, call, {
        accepted: (assertion) => this.signIn(tenant, assertion, call),
        refused: (facts, err) => this.deps.auditor.failure("authentication", tenant, call, facts, err),
      });
    } catch (err) {
      throw await this.withUnknownCredentialSignal(tenant, credentialJson, err);
    }
  }

  /**
   * A CREDENTIAL_UNKNOWN refusal (no such credential in this tenant: never registered, or deleted)
   * carries signalUnknownCredential, so the browser's provider hides the dead passkey; but only when
   * no other tenant of the same RP ID has the id either, since hiding a passkey another tenant still
   * accepts would break its sign-in there. A lookup that fails sends no signal (it cannot tell).
   * Every other refusal (revoked, another user's, a bad signature) has a credential that exists,
   * and never gets one. The id is the one the browser's own response named (preflight checked its
   * shape before the lookup), the RP ID is the tenant's: the signal tells the caller nothing new.
   */
  private async withUnknownCredentialSignal(tenant: TenantConfig, credentialJson: string, err: unknown): Promise<unknown> {
    if (!(err instanceof AuthError) || err.reason !== "CREDENTIAL_UNKNOWN") return err;
    const credentialId = credentialIdHint(credentialJson);
    if (!credentialId) return err;
    const others = this.tenantsOfRpId(tenant.rpId).filter((t) => t.id !== tenant.id);
    const owners = await Promise.all(others.map((t) => credentialOwner(this.deps, t.id, credentialId).catch(() => "unknown: lookup failed")));
    if (owners.some((owner) => owner !== undefined)) return err;
    return new AuthError(err.reason, err.message, err.metadata, err.retryDelayMs, unknownCredentialSignal(tenant.rpId, credentialId));
  }

  /** Opens the session the accepted assertion earns (Sessions.open writes its event). */
  private async signIn(tenant: TenantConfig, assertion: AcceptedAssertion, call: CallContext): Promise<SignIn> {
    const { credential, authTime, assurance, facts } = assertion;
    const session = await this.sessions.open(
      tenant,
      {
        userId: credential.userId,
        credentialId: credential.credentialId,
        authTime,
        assurance,
        facts: mergeFacts(facts, { details: { backed_up: String(assertion.backedUp) } }),
      },
      call,
    );
    return {
      userId: credential.userId,
      credentialId: credential.credentialId,
      userVerified: assertion.userVerified,
      sessionToken: session.token,
      authTime,
      expiresAt: session.expiresAt,
    };
  }
}
