import { Caches, type CachedCredential } from "./credential-cache.js";
import type { TenantConfig } from "../tenants/tenant-config.js";
import { mergeFacts, type AuditFacts, type CallContext } from "../audit/audit-event.js";
import { enforceSignInPolicy } from "../attestation/enforce.js";
import type { MdsCatalogSource } from "../attestation/mds-reloader.js";
import { AuthError, unauthenticated } from "../errors.js";
import type { AssertionUpdate } from "../store/credential-store.js";
import { countCacheLookup } from "../telemetry/metrics.js";
import { inSpan } from "../telemetry/spans.js";
import { parseAssertionKey } from "../webauthn/assertion-key.js";
import { flagsVerdict } from "../webauthn/assertion-policy.js";
import { assuranceOf, type AssuranceClaims } from "../webauthn/assurance.js";
import type { Ceremony } from "../webauthn/ceremony.js";
import { acceptedOrigins, preflightAuthentication } from "../webauthn/preflight.js";
import type { VerifiedAssertion } from "../webauthn/assertion.js";
import { verifyAuthentication } from "../webauthn/verify-authentication.js";
import { beginFacts, credentialIdHint } from "./audit-facts.js";
import { markConsumed, openCeremony } from "./challenges.js";
import type { CeremonyDeps } from "./deps.js";

/** An assertion a sign-in or a step-up asks the core to accept. */
export interface AssertionInput {
  readonly kind: "authentication" | "step-up";
  readonly credentialJson: string;
  /** The user the assertion must come from, known apart from its ceremony: a step-up's session subject. */
  readonly subject?: string;
  /** Checks on the opened ceremony that need no stored state (a step-up's operation binding). */
  readonly admit?: (ceremony: Ceremony) => void;
  /** User verification demanded beyond the ceremony's and the tenant's (a step-up requirement). */
  readonly requireUserVerification?: boolean;
  /** What the caller's events already know (e.g. the operation). */
  readonly facts?: AuditFacts;
}

/** A verified assertion whose counter update is written. */
export interface AcceptedAssertion {
  readonly credential: CachedCredential;
  /** Epoch ms: when the counter update was written. */
  readonly authTime: number;
  readonly userVerified: boolean;
  readonly backedUp: boolean;
  /** From the credential's record, lowered by the assertion's flags, never raised. */
  readonly assurance: AssuranceClaims;
  /** What this assertion's events record: the Begin call, the credential, a flag mismatch. */
  readonly facts: AuditFacts;
}

/** What the caller does with the outcome; both run inside the core's one refusal path. */
export interface AssertionOutcome<T> {
  /** Issues what the assertion earns (a session, a grant) and writes the success event. */
  accepted(assertion: AcceptedAssertion): Promise<T>;
  /** Writes the caller's failure event for a refusal at any step, with the facts known by then. */
  refused(facts: AuditFacts, err: unknown): Promise<void>;
}

/**
 * The one place an assertion is checked, for FinishAuthentication and VerifyOperation alike, in
 * this order: preflight (stateless; a refusal consumes nothing), open the sealed challenge and
 * the caller's binding checks, the ceremony's user against the subject, consume the challenge
 * (one conditional put), load the credential (cache, else one read; MDS sign-in policy),
 * ownership, signature and flags, the record's flags against the assertion's, then one
 * conditional counter update that also refuses a revoked credential and, under the tenant's
 * `cloneResponse: refuse`, a clone-suspected one. A counter regression flags the credential
 * (a write conditioned on the regression itself) and writes a CLONE_SUSPECTED event.
 * DynamoDB: 2 requests (+1 GetItem on a credential cache miss); the caller's event is its own.
 */
export class AssertionCore {

  constructor(
    private readonly deps: CeremonyDeps,
    /** The FIDO MDS in use, for tenants that verify attestation; none: no model is refused at sign-in. */
    private readonly mds: MdsCatalogSource,
  ) {}

  async accept<T>(tenant: TenantConfig, input: AssertionInput, call: CallContext, outcome: AssertionOutcome<T>): Promise<T> {
    let facts: AuditFacts = input.facts ?? {};
    try {
      const parsed = preflightAuthentication(input.credentialJson, tenant);
      const { json } = parsed;
      facts = mergeFacts(facts, { credentialId: json.id });
      const opened = openCeremony(this.deps, tenant, parsed.clientData.challenge, input.kind);
      input.admit?.(opened.ceremony);
      const named = opened.ceremony.userId;
      if (named !== undefined && input.subject !== undefined && named !== input.subject) {
        throw unauthenticated("USER_MISMATCH", "the challenge was issued to another user");
      }
      const owner = named ?? input.subject;
      const ceremony = await markConsumed(this.deps, opened);
      facts = mergeFacts(facts, beginFacts(ceremony));
      const credential = await this.credential(tenant, json.id);
      facts = mergeFacts(facts, { aaguid: credential.aaguid, userId: facts.userId ?? credential.userId });
      checkOwnership(credential, owner, json.response.userHandle);
      const verified = await inSpan("webauthn.verify_authentication", () =>
        verifyAuthentication(
          parsed,
          {
            challenge: ceremony.challenge,
            origins: acceptedOrigins(tenant),
            rpId: tenant.rpId,
            // The tenant's floor as it is now, too: a reload may have raised it since the Begin.
            requireUserVerification:
              input.requireUserVerification === true || ceremony.userVerification === "required" || tenant.userVerification === "required",
          },
          credential,
        ),
      );
      if (verified.backupEligible !== credential.backupEligible) {
        facts = mergeFacts(facts, { details: { flag_mismatch: "BACKUP_ELIGIBILITY_MISMATCH", asserted_backup_eligible: String(verified.backupEligible) } });
      }
      const flags = flagsVerdict({ assertion: tenant.assertion, allowBackupEligible: tenant.attestation.allowBackupEligible }, credential.backupEligible, verified.backupEligible);
      if (!flags.ok) throw unauthenticated(flags.reason, flags.message);
      const authTime = await this.record(tenant, credential, verified, call, facts);
      const assurance = assuranceOf({ backupEligible: flags.backupEligible, userVerified: verified.userVerified });
      return await outcome.accepted({ credential, authTime, userVerified: verified.userVerified, backedUp: verified.backedUp, assurance, facts });
    } catch (err) {
      // Only a refused request pays for re-reading the id it named.
      await outcome.refused(facts.credentialId ? facts : { ...facts, credentialId: credentialIdHint(input.credentialJson) }, err);
      throw err;
    }
  }

  /** The conditional counter update; resolves with the authentication time. */
  private async record(tenant: TenantConfig, credential: CachedCredential, verified: VerifiedAssertion, call: CallContext, facts: AuditFacts): Promise<number> {
    const update: AssertionUpdate = {
      tenant: tenant.id,
      credentialId: credential.credentialId,
      userId: credential.userId,
      newCounter: verified.newCounter,
      backedUp: verified.backedUp,
      usedAt: this.deps.clock(),
      refuseCloneSuspected: tenant.assertion.cloneResponse === "refuse",
    };
    try {
      await this.deps.store.credentials.recordAssertion(update);
      return update.usedAt;
    } catch (err) {
      if (err instanceof AuthError && err.reason === "COUNTER_REGRESSION") await this.suspectClone(tenant, update, call, facts, err);
      throw err;
    }
  }

  /** Flags the credential and records the suspicion; a flag that cannot be written is logged, never thrown over the refusal. */
  private async suspectClone(tenant: TenantConfig, update: AssertionUpdate, call: CallContext, facts: AuditFacts, err: AuthError): Promise<void> {
    const flagged = await this.deps.store.credentials.flagCloneSuspected(update).catch((flagErr: unknown) => {
      this.deps.logger.error({ err: flagErr }, "could not flag a clone-suspected credential");
      return false;
    });
    await this.deps.auditor.failure("clone_suspected", tenant, call, mergeFacts(facts, { details: { flagged: String(flagged) } }), err);
  }

  /** Immutable facts from the cache, else one strongly consistent read; refuses a model MDS now reports with compromised user keys. */
  private async credential(tenant: TenantConfig, credentialId: string): Promise<CachedCredential> {
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

/**
 * The credential must belong to the user the ceremony or the session names and to the returned
 * user handle (cf. YSA-2026-02); with no user named (a discoverable sign-in), the handle must be present.
 */
function checkOwnership(credential: CachedCredential, owner: string | undefined, userHandle: string | null | undefined): void {
  if (owner !== undefined && credential.userId !== owner) throw unauthenticated("USER_MISMATCH", "credential belongs to another user");
  if (userHandle ? userHandle !== credential.userHandle : owner === undefined) {
    throw unauthenticated("USER_MISMATCH", "user handle does not match the credential");
  }
}
