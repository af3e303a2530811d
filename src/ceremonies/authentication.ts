import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { Caches, type CachedCredential } from "../cache.js";
import type { TenantConfig } from "../config.js";
import { unauthenticated } from "../errors.js";
import { issueSessionToken } from "../tokens/session-token.js";
import { assuranceOf } from "../webauthn/assurance.js";
import type { CredentialDescriptor, UserVerification } from "../webauthn/ceremony.js";
import { decoyCredentials } from "../webauthn/decoy-credentials.js";
import { preflightAuthentication } from "../webauthn/preflight.js";
import { requestOptions } from "../webauthn/options.js";
import { beginCeremony } from "./begin-ceremony.js";
import { verifyAuthentication } from "../webauthn/verify-authentication.js";
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
 * BeginAuthentication: 1 DynamoDB request on a warm cache (the challenge put), plus one Query for
 * a user's credential list on a miss. FinishAuthentication: 2 (consume the challenge, the
 * conditional counter update), plus one GetItem when the credential is not cached.
 */
export class AuthenticationCeremony {
  constructor(private readonly deps: CeremonyDeps) {}

  async begin(
    tenant: TenantConfig,
    userId: string | undefined,
    userVerification: UserVerification,
  ): Promise<BeginResult<PublicKeyCredentialRequestOptionsJSON>> {
    const allowCredentials = userId === undefined ? [] : await this.allowCredentials(tenant, userId);
    const { challenge, expiresAt } = await beginCeremony(this.deps, tenant, {
      kind: "authentication",
      userId,
      userHandle: undefined,
      userVerification,
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
    const { store, caches, signingKey } = this.deps;
    const key = Caches.key(tenant.id, userId);
    let list = caches.userCredentials?.get(key);
    if (!list) {
      list = await store.credentials.listForUser(tenant.id, userId);
      caches.userCredentials?.set(key, list);
    }
    return list.length > 0 ? list : decoyCredentials(signingKey.derivedSecret, tenant.id, userId);
  }

  async finish(tenant: TenantConfig, credentialJson: string): Promise<SignIn> {
    const { store, clock, signingKey } = this.deps;
    const { json, clientData } = preflightAuthentication(credentialJson, tenant);
    const ceremony = await store.challenges.consume(tenant.id, clientData.challenge, "authentication", clock());
    const credential = await this.credential(tenant, json.id);
    // The credential must belong to the user the ceremony named and to the returned user handle
    // (cf. YSA-2026-02); a discoverable ceremony has only the handle, so it must be present.
    if (ceremony.userId !== undefined && credential.userId !== ceremony.userId) {
      throw unauthenticated("USER_MISMATCH", "credential belongs to another user");
    }
    const userHandle = json.response.userHandle;
    if (userHandle ? userHandle !== credential.userHandle : ceremony.userId === undefined) {
      throw unauthenticated("USER_MISMATCH", "user handle does not match the credential");
    }
    const assertion = await verifyAuthentication(
      json,
      {
        challenge: ceremony.challenge,
        origins: tenant.origins,
        rpId: tenant.rpId,
        requireUserVerification: ceremony.userVerification === "required",
      },
      credential,
    );
    const authTime = clock();
    await store.credentials.recordAssertion({
      tenant: tenant.id,
      credentialId: credential.credentialId,
      userId: credential.userId,
      newCounter: assertion.newCounter,
      backedUp: assertion.backedUp,
      usedAt: authTime,
    });
    const token = await issueSessionToken(
      signingKey,
      {
        tenant: tenant.id,
        userId: credential.userId,
        credentialId: credential.credentialId,
        authTime,
        ...assuranceOf(assertion),
      },
      tenant.sessionTtlSeconds,
    );
    return {
      userId: credential.userId,
      credentialId: credential.credentialId,
      userVerified: assertion.userVerified,
      sessionToken: token.token,
      authTime,
      expiresAt: token.expiresAt,
    };
  }

  /** Immutable facts from the cache, else one strongly consistent read. */
  private async credential(tenant: TenantConfig, credentialId: string): Promise<CachedCredential> {
    const { store, caches } = this.deps;
    const key = Caches.key(tenant.id, credentialId);
    const cached = caches.credentials.get(key);
    if (cached) return cached;
    const stored = await store.credentials.get(tenant.id, credentialId);
    if (!stored) throw unauthenticated("CREDENTIAL_UNKNOWN", "unknown credential");
    const facts: CachedCredential = {
      credentialId: stored.credentialId,
      userId: stored.userId,
      userHandle: stored.userHandle,
      publicKey: stored.publicKey,
    };
    caches.credentials.set(key, facts);
    return facts;
  }
}
