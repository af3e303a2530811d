import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { Caches } from "../cache.js";
import type { TenantConfig } from "../config.js";
import { newSessionId } from "../audit/session-id.js";
import { auditEvent, type CallContext } from "../audit/audit-event.js";
import { issueSessionToken } from "../tokens/session-token.js";
import type { CredentialDescriptor, UserVerification } from "../webauthn/ceremony.js";
import { atLeast } from "../webauthn/user-verification.js";
import { decoyCredentials } from "../webauthn/decoy-credentials.js";
import { requestOptions } from "../webauthn/options.js";
import { countCacheLookup, countCeremony } from "../telemetry/metrics.js";
import type { AcceptedAssertion, AssertionCore } from "./assertion-core.js";
import { beginCeremony } from "./challenges.js";
import type { CeremonyDeps } from "./deps.js";
import type { BeginResult } from "./registration.js";

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
 * best-effort failure event when refused.
 */
export class AuthenticationCeremony {

  constructor(
    private readonly deps: CeremonyDeps,
    /** Checks and records the assertion a finish carries (shared with step-up). */
    private readonly assertions: AssertionCore,
  ) {}

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
    return this.assertions.accept(tenant, { kind: "authentication", credentialJson }, call, {
      accepted: (assertion) => this.signIn(tenant, assertion, call),
      refused: (facts, err) => this.deps.auditor.failure("authentication", tenant, call, facts, err),
    });
  }

  /**
   * Signs the token and writes the sign-in's audit event, which is the session record. The token
   * is returned only once that event is durable: an audit write that fails fails the call.
   */
  private async signIn(tenant: TenantConfig, assertion: AcceptedAssertion, call: CallContext): Promise<SignIn> {
    const { store, keys } = this.deps;
    const { credential, authTime, assurance, facts } = assertion;
    const sessionId = newSessionId(credential.userId, authTime);
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
}
