import type { AttestationConveyancePreference } from "@simplewebauthn/server";
import { Caches } from "./credential-cache.js";
import type { TenantConfig } from "../tenants/tenant-config.js";
import type { AuditFacts, CallContext } from "../audit/audit-event.js";
import type { Ceremony, StoredCredential } from "../webauthn/ceremony.js";
import { allowedAlgorithms, ceremonyChoices, type CeremonyRequest } from "../webauthn/ceremony-profile.js";
import { atLeast } from "../webauthn/user-verification.js";
import { acceptedOrigins, preflightRegistration } from "../webauthn/preflight.js";
import { creationOptions, newUserHandle, type CreationOptionsJSON } from "../webauthn/options.js";
import type { RegistrationExtensionFacts, RegistrationExtensionInputs } from "../webauthn/extensions.js";
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

/** The profile and preferences (CeremonyRequest) besides the user and the attestation asked for. */
export interface BeginRegistrationInput extends CeremonyRequest {
  readonly userId: string;
  readonly userName: string;
  readonly displayName: string;
  readonly attestation: AttestationConveyancePreference;
  /** Conditional create (automatic passkey upgrade): sealed, so only its finish accepts UP=0. */
  readonly conditional: boolean;
  readonly extensions: RegistrationExtensionInputs;
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
  ): Promise<BeginResult<CreationOptionsJSON>> {
    this.deps.limits.admit(tenant, "registration", input.userId, call);
    const { store, clock } = this.deps;
    const names = { userName: input.userName, displayName: input.displayName };
    const choices = ceremonyChoices(tenant, input);
    const userHandle = await store.users.ensureHandle(tenant.id, input.userId, newUserHandle(), names, clock());
    const existing = await store.credentials.listForUser(tenant.id, input.userId);
    const { challenge, expiresAt } = beginCeremony(this.deps, tenant, {
      kind: "registration",
      userId: input.userId,
      userHandle,
      userVerification: choices.userVerification,
      algorithms: choices.sealedAlgorithms,
      beganBy: call,
      conditional: input.conditional,
    });
    const options = creationOptions({
      rpId: tenant.rpId,
      rpName: tenant.rpName,
      challenge,
      userHandle,
      userName: input.userName,
      displayName: input.displayName,
      timeoutMs: choices.timeoutMs,
      algorithms: choices.algorithms,
      excludeCredentials: existing,
      attachment: choices.attachment,
      residentKey: choices.residentKey,
      userVerification: choices.userVerification,
      attestation: conveyanceFor(tenant.attestation, input.attestation),
      hints: choices.hints,
      extensions: input.extensions,
    });
    return { options, expiresAt };
  }

  async finish(tenant: TenantConfig, credentialJson: string, name: string, call: CallContext): Promise<Registered> {
    let facts: AuditFacts = {};
    try {
      const { json, clientData, extensions } = preflightRegistration(credentialJson, tenant);
      facts = { credentialId: json.id };
      const ceremony = await consumeCeremony(this.deps, tenant, clientData.challenge, "registration");
      facts = { ...facts, ...beginFacts(ceremony) };
      // The tenant as configured now decides, over what was sealed at begin: a floor raised by a
      // reload since then applies to this ceremony too (origins, algorithms and attestation likewise);
      // what its profile demanded was sealed, so it holds even if a reload changed the profile.
      const userVerification = atLeast(tenant.userVerification, ceremony.userVerification);
      const verified = await inSpan("webauthn.verify_registration", () =>
        verifyRegistration(
          json,
          { challenge: ceremony.challenge, origins: acceptedOrigins(tenant), rpId: tenant.rpId },
          registrationPolicy(userVerification, allowedAlgorithms(tenant.algorithms, ceremony.algorithms), ceremony.conditional === true),
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
      const credential = await this.store(tenant, ceremony, verified, extensions, name, call, facts);
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
    extensions: RegistrationExtensionFacts,
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
      ...extensions,
      createdConditionally: ceremony.conditional === true,
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
