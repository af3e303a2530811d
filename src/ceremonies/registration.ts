import type {
  AttestationConveyancePreference,
  AuthenticatorAttachment,
  PublicKeyCredentialCreationOptionsJSON,
  ResidentKeyRequirement,
} from "@simplewebauthn/server";
import { Caches } from "./credential-cache.js";
import type { TenantConfig } from "../tenants/tenant-config.js";
import type { AuditFacts, CallContext } from "../audit/audit-event.js";
import type { Ceremony, StoredCredential, UserVerification } from "../webauthn/ceremony.js";
import { atLeast } from "../webauthn/user-verification.js";
import { preflightRegistration } from "../webauthn/preflight.js";
import { creationOptions, newUserHandle } from "../webauthn/options.js";
import { beginCeremony, consumeCeremony } from "./challenges.js";
import { registrationPolicy, verifyRegistration, type VerifiedRegistration } from "../webauthn/verify-registration.js";
import { inSpan } from "../telemetry/spans.js";
import { beginFacts, credentialIdHint } from "./audit-facts.js";
import type { CeremonyDeps } from "./deps.js";
import { conveyanceFor } from "../attestation/conveyance.js";
import { enforceAttestationPolicy } from "../attestation/enforce.js";
import type { MdsCatalogSource } from "../attestation/mds-reloader.js";
import type { ProviderNames } from "../attestation/provider-names.js";
import { allAcceptedCredentialsSignal, type BrowserSignal } from "../webauthn/signals.js";

/** What registration needs to apply tenants' attestation policies. */
export interface AttestationTrust {
  /** The verified FIDO MDS BLOB in use; none refuses every direct/enterprise registration. */
  readonly mds: MdsCatalogSource;
  readonly providerNames: ProviderNames;
}

export interface BeginRegistrationInput {
  readonly userId: string;
  readonly userName: string;
  readonly displayName: string;
  readonly attachment: AuthenticatorAttachment | undefined;
  readonly residentKey: ResidentKeyRequirement;
  readonly userVerification: UserVerification;
  readonly attestation: AttestationConveyancePreference;
}

export interface BeginResult<T> {
  readonly options: T;
  readonly expiresAt: number;
}

/** A registered credential and the signalAllAcceptedCredentials call that names it among the user's others. */
export interface Registered {
  readonly credential: StoredCredential;
  readonly signal: BrowserSignal;
}

/**
 * BeginRegistration: 2 DynamoDB requests (user handle get-or-create, which also records the
 * names, the user's credentials for excludeCredentials; the challenge is sealed, not stored).
 * FinishRegistration: 3 (the challenge's consumed marker; the user's usable credentials for the
 * signal, read before the write so that its failure leaves nothing behind; one transaction that
 * puts the credential and its audit event, so neither exists without the other, and records the
 * credential on the user on the condition that the user still has the handle sealed in the
 * challenge: an erase voids every registration begun before it), plus a best-effort failure
 * event when refused.
 */
export class RegistrationCeremony {

  constructor(
    private readonly deps: CeremonyDeps,
    private readonly trust: AttestationTrust,
  ) {}

  async begin(
    tenant: TenantConfig,
    input: BeginRegistrationInput,
    call: CallContext,
  ): Promise<BeginResult<PublicKeyCredentialCreationOptionsJSON>> {
    this.deps.limits.admit(tenant, "registration", input.userId, call);
    const { store, clock } = this.deps;
    const userVerification = atLeast(tenant.userVerification, input.userVerification);
    const names = { userName: input.userName, displayName: input.displayName };
    const userHandle = await store.users.ensureHandle(tenant.id, input.userId, newUserHandle(), names, clock());
    const existing = await store.credentials.listForUser(tenant.id, input.userId);
    const { challenge, expiresAt } = beginCeremony(this.deps, tenant, {
      kind: "registration",
      userId: input.userId,
      userHandle,
      userVerification,
      beganBy: call,
    });
    const options = creationOptions({
      rpId: tenant.rpId,
      rpName: tenant.rpName,
      challenge,
      userHandle,
      userName: input.userName,
      displayName: input.displayName,
      timeoutMs: tenant.challengeTtlSeconds * 1000,
      algorithms: tenant.algorithms,
      excludeCredentials: existing,
      attachment: input.attachment,
      residentKey: input.residentKey,
      userVerification,
      attestation: conveyanceFor(tenant.attestation, input.attestation),
    });
    return { options, expiresAt };
  }

  async finish(tenant: TenantConfig, credentialJson: string, name: string, call: CallContext): Promise<Registered> {
    let facts: AuditFacts = {};
    try {
      const { json, clientData } = preflightRegistration(credentialJson, tenant);
      facts = { credentialId: json.id };
      const ceremony = await consumeCeremony(this.deps, tenant, clientData.challenge, "registration");
      facts = { ...facts, ...beginFacts(ceremony) };
      // The tenant as configured now decides, over what was sealed at begin: a floor raised by a
      // reload since then applies to this ceremony too (origins, algorithms and attestation likewise).
      const userVerification = atLeast(tenant.userVerification, ceremony.userVerification);
      const verified = await inSpan("webauthn.verify_registration", () =>
        verifyRegistration(
          json,
          { challenge: ceremony.challenge, origins: tenant.origins, rpId: tenant.rpId },
          registrationPolicy(userVerification, tenant.algorithms),
        ),
      );
      facts = {
        ...facts,
        credentialId: verified.credentialId,
        aaguid: verified.aaguid,
        details: { ...facts.details, provider_name: this.trust.providerNames.nameOf(verified.aaguid) },
      };
      enforceAttestationPolicy(tenant.attestation, verified, this.trust.mds(), new Date(this.deps.clock()));
      // The by-user index is eventually consistent: the new credential is added, never read back.
      const others = await this.deps.store.credentials.listForUser(tenant.id, ceremony.userId ?? "");
      const credential = await this.store(tenant, ceremony, verified, name, call, facts);
      const accepted = new Set([...others.map((c) => c.id), credential.credentialId]);
      return { credential, signal: allAcceptedCredentialsSignal(tenant.rpId, credential.userHandle, [...accepted]) };
    } catch (err) {
      await this.deps.auditor.failure("registration", tenant, call, { credentialId: credentialIdHint(credentialJson), ...facts }, err);
      throw err;
    }
  }

  private async store(
    tenant: TenantConfig,
    ceremony: Ceremony,
    verified: VerifiedRegistration,
    name: string,
    call: CallContext,
    facts: AuditFacts,
  ): Promise<StoredCredential> {
    const { store, caches, clock } = this.deps;
    const now = clock();
    const credential: StoredCredential = {
      tenant: tenant.id,
      credentialId: verified.credentialId,
      userId: ceremony.userId ?? "",
      userHandle: ceremony.userHandle ?? "",
      publicKey: verified.publicKey,
      counter: verified.counter,
      transports: verified.transports,
      aaguid: verified.aaguid,
      attestationFormat: verified.attestationFormat,
      userVerified: verified.userVerified,
      backupEligible: verified.backupEligible,
      backedUp: verified.backedUp,
      name,
      createdAt: now,
      lastUsedAt: undefined,
      revokedAt: undefined,
      revocationReason: undefined,
    };
    const ownerUpdate = store.users.addCredential(tenant.id, credential.userId, credential.userHandle, credential.credentialId);
    await this.deps.auditor.success(
      "registration",
      tenant,
      call,
      { ...facts, details: { ...facts.details, attestation_format: verified.attestationFormat } },
      { time: now, write: (event) => store.credentials.create(credential, ownerUpdate, [store.audit.transactPut(event)]) },
    );
    caches.userCredentials?.delete(Caches.key(tenant.id, credential.userId));
    return credential;
  }
}
