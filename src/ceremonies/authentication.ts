import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { Caches, type CachedCredential } from "../cache.js";
import type { TenantConfig } from "../config.js";
import { newSessionId } from "../audit/session-id.js";
import { auditEvent, type AuditFacts, type CallContext } from "../audit/audit-event.js";
import { AuthError, unauthenticated } from "../errors.js";
import { issueSessionToken } from "../tokens/session-token.js";
import { assuranceOf } from "../webauthn/assurance.js";
import type { CredentialDescriptor, UserVerification } from "../webauthn/ceremony.js";
import { atLeast } from "../webauthn/user-verification.js";
import { decoyCredentials } from "../webauthn/decoy-credentials.js";
import { parseAssertionKey } from "../webauthn/assertion-key.js";
import { preflightAuthentication } from "../webauthn/preflight.js";
import { requestOptions } from "../webauthn/options.js";
import { beginCeremony, consumeCeremony } from "./challenges.js";
import { verifyAuthentication, type VerifiedAssertion } from "../webauthn/verify-authentication.js";
import { countCacheLookup, countCeremony } from "../telemetry/metrics.js";
import { inSpan } from "../telemetry/spans.js";
import { Auditor, beginFacts, credentialIdHint } from "./auditor.js";
import type { CeremonyDeps } from "./deps.js";
import type { BeginResult } from "./registration.js";
import { enforceSignInPolicy } from "../attestation/enforce.js";
import type { MdsCatalogSource } from "../attestation/mds-reloader.js";

export interface SignIn {
  readonly userId: string;
  readonly credentialId: string;
  readonly userVerified: boolean;
  readonly sessionToken: string;
  readonly authTime: number;
  readonly expiresAt: number;
}

/**
 * BeginAuthentication: 1 DynamoDB request on a warm cache (the challenge put), plus one Query for
 * a user's credential list on a miss. FinishAuthentication: 3 (consume the challenge, the
 * conditional counter update, the audit event that is also the session record), plus one GetItem
 * when the credential is not cached, plus a best-effort failure event when refused.
 */
export class AuthenticationCeremony {
  private readonly auditor: Auditor;

  constructor(
    private readonly deps: CeremonyDeps,
    /** The FIDO MDS in use, for tenants that verify attestation; none: no model is refused at sign-in. */
    private readonly mds: MdsCatalogSource,
  ) {
    this.auditor = new Auditor(deps);
  }

  async begin(
    tenant: TenantConfig,
    userId: string | undefined,
    requestedUserVerification: UserVerification,
    call: CallContext,
    operationDigest?: string,
  ): Promise<BeginResult<PublicKeyCredentialRequestOptionsJSON>> {
    this.deps.limits.admit(tenant, operationDigest ? "step-up" : "authentication", userId, call);
    const userVerification = atLeast(tenant.userVerification, requestedUserVerification);
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
      timeoutMs: tenant.challengeTtlSeconds * 1000,
      allowCredentials,
      userVerification,
    });
    return { options, expiresAt };
  }

  /** The user's credentials, or decoys for an unknown user so the answer has the same shape. */
  private async allowCredentials(tenant: TenantConfig, userId: string): Promise<CredentialDescriptor[]> {
    const { store, caches, keys, clock } = this.deps;
    const key = Caches.key(tenant.id, userId);
    let list = caches.userCredentials?.get(key);
    if (caches.userCredentials) countCacheLookup("user_credentials", list !== undefined);
    if (!list) {
      list = await store.credentials.listForUser(tenant.id, userId);
      caches.userCredentials?.set(key, list);
    }
    return list.length > 0 ? list : decoyCredentials(keys.signingKey(clock()).derivedSecret, tenant.id, userId);
  }

  async finish(tenant: TenantConfig, credentialJson: string, call: CallContext): Promise<SignIn> {
    let facts: AuditFacts = {};
    try {
      const preflighted = preflightAuthentication(credentialJson, tenant);
      const { json, clientData } = preflighted;
      facts = { credentialId: json.id };
      const ceremony = await consumeCeremony(this.deps, tenant, clientData.challenge, "authentication");
      facts = { ...facts, ...beginFacts(ceremony) };
      const credential = await this.credential(tenant, json.id);
      facts = { ...facts, aaguid: credential.aaguid, userId: facts.userId ?? credential.userId };
      // The credential must belong to the user the ceremony named and to the returned user handle
      // (cf. YSA-2026-02); a discoverable ceremony has only the handle, so it must be present.
      if (ceremony.userId !== undefined && credential.userId !== ceremony.userId) {
        throw unauthenticated("USER_MISMATCH", "credential belongs to another user");
      }
      const userHandle = json.response.userHandle;
      if (userHandle ? userHandle !== credential.userHandle : ceremony.userId === undefined) {
        throw unauthenticated("USER_MISMATCH", "user handle does not match the credential");
      }
      const assertion = await inSpan("webauthn.verify_authentication", () =>
        verifyAuthentication(
          preflighted,
          {
            challenge: ceremony.challenge,
            origins: tenant.origins,
            rpId: tenant.rpId,
            requireUserVerification: ceremony.userVerification === "required",
          },
          credential,
        ),
      );
      return await this.signIn(tenant, credential, assertion, call, facts);
    } catch (err) {
      // Only a refused request pays for re-reading the id it named.
      await this.auditFailure(tenant, call, { credentialId: credentialIdHint(credentialJson), ...facts }, err);
      throw err;
    }
  }

  /**
   * Advances the counter (the conditional write that also refuses revoked credentials), signs the
   * token and writes the sign-in's audit event, which is the session record. The token is
   * returned only once that event is durable: an audit write that fails fails the call.
   */
  private async signIn(
    tenant: TenantConfig,
    credential: CachedCredential,
    assertion: VerifiedAssertion,
    call: CallContext,
    facts: AuditFacts,
  ): Promise<SignIn> {
    const { store, keys } = this.deps;
    const authTime = await this.recordAssertion(tenant, credential, assertion);
    const sessionId = newSessionId(credential.userId, authTime);
    const assurance = assuranceOf(assertion);
    const token = await issueSessionToken(
      keys.signingKey(authTime),
      {
        jti: sessionId,
        tenant: tenant.id,
        userId: credential.userId,
        credentialId: credential.credentialId,
        authTime,
        ...assurance,
      },
      tenant.sessionTtlSeconds,
    );
    const event = auditEvent("authentication", "success", tenant.id, call, authTime, {
      ...facts,
      session: { sessionId, expiresAt: token.expiresAt },
      details: { ...facts.details, amr: assurance.amr.join(" "), acr: assurance.acr, backed_up: String(assertion.backedUp) },
    });
    await store.audit.put(event);
    countCeremony(event);
    return {
      userId: credential.userId,
      credentialId: credential.credentialId,
      userVerified: assertion.userVerified,
      sessionToken: token.token,
      authTime,
      expiresAt: token.expiresAt,
    };
  }

  /** The refusal's event; a counter regression also marks the credential clone-suspected. */
  private async auditFailure(tenant: TenantConfig, call: CallContext, facts: AuditFacts, err: unknown): Promise<void> {
    if (err instanceof AuthError && err.reason === "COUNTER_REGRESSION" && facts.credentialId) {
      await this.deps.store.credentials
        .markCloneSuspected(tenant.id, facts.credentialId, this.deps.clock())
        .catch((markErr: unknown) => this.deps.logger.error({ err: markErr }, "could not flag a clone-suspected credential"));
      await this.auditor.failure("clone_suspected", tenant, call, facts, err);
    }
    await this.auditor.failure("authentication", tenant, call, facts, err);
  }

  /**
   * The conditional counter update that also refuses a revoked or foreign credential (also used
   * by step-up); resolves with the authentication time.
   */
  async recordAssertion(tenant: TenantConfig, credential: CachedCredential, assertion: VerifiedAssertion): Promise<number> {
    // WebAuthn L3 §7.2: an RP whose policy uses backup eligibility checks it against the record;
    // a tenant that refuses synced passkeys must not let a device-bound one turn synced.
    if (!tenant.attestation.allowBackupEligible && assertion.backupEligible && !credential.backupEligible) {
      throw unauthenticated("BACKUP_ELIGIBLE_REFUSED", "the credential was registered device-bound and is now backup eligible");
    }
    const authTime = this.deps.clock();
    await this.deps.store.credentials.recordAssertion({
      tenant: tenant.id,
      credentialId: credential.credentialId,
      userId: credential.userId,
      newCounter: assertion.newCounter,
      backedUp: assertion.backedUp,
      usedAt: authTime,
    });
    return authTime;
  }

  /**
   * Immutable facts from the cache, else one strongly consistent read (also used by step-up);
   * refuses a credential whose model MDS now reports with compromised user keys.
   */
  async credential(tenant: TenantConfig, credentialId: string): Promise<CachedCredential> {
    const facts = await this.credentialFacts(tenant, credentialId);
    enforceSignInPolicy(tenant.attestation, facts.aaguid, this.mds());
    return facts;
  }

  private async credentialFacts(tenant: TenantConfig, credentialId: string): Promise<CachedCredential> {
    const { store, caches } = this.deps;
    const key = Caches.key(tenant.id, credentialId);
    const cached = caches.credentials.get(key);
    countCacheLookup("credential", cached !== undefined);
    if (cached) return cached;
    const stored = await store.credentials.get(tenant.id, credentialId);
    if (!stored) throw unauthenticated("CREDENTIAL_UNKNOWN", "unknown credential");
    const facts: CachedCredential = {
      credentialId: stored.credentialId,
      userId: stored.userId,
      userHandle: stored.userHandle,
      publicKey: stored.publicKey,
      assertionKey: parseAssertionKey(stored.publicKey),
      aaguid: stored.aaguid,
      backupEligible: stored.backupEligible,
    };
    caches.credentials.set(key, facts);
    return facts;
  }
}
