import type { TenantConfig } from "../tenants/tenant-config.js";
import { unauthenticated } from "../errors.js";
import type { VerifiedRegistration } from "../webauthn/verify-registration.js";
import { attestationChain } from "./attestation-chain.js";
import type { MdsCatalog } from "./mds-blob.js";
import type { AttestationPolicy } from "./policy.js";
import { signInVerdict, trustVerdict } from "./trust-policy.js";

/** At start and at each tenants reload: a tenant that verifies attestation needs a verified BLOB. */
export function requireMetadataFor(tenants: readonly TenantConfig[], hasMetadata: boolean): void {
  const verifying = tenants.filter((t) => t.attestation.conveyance !== "none").map((t) => t.id);
  if (verifying.length > 0 && !hasMetadata) {
    throw new Error(`tenants ${verifying.join(", ")} verify attestation (direct/enterprise): set MDS_BLOB_FILE`);
  }
}

/** Throws the refusal (UNAUTHENTICATED with its reason) when the tenant's policy refuses the registration. */
export function enforceAttestationPolicy(
  policy: AttestationPolicy,
  verified: VerifiedRegistration,
  catalog: MdsCatalog | undefined,
  at: Date,
): void {
  const verdict = trustVerdict(
    policy,
    { aaguid: verified.aaguid, backupEligible: verified.backupEligible, chain: () => attestationChain(verified.attestationObject) },
    catalog,
    at,
  );
  if (!verdict.ok) throw unauthenticated(verdict.reason, verdict.message);
}

/** Throws AUTHENTICATOR_REVOKED when MDS now reports the credential's model's user keys compromised. */
export function enforceSignInPolicy(policy: AttestationPolicy, aaguid: string, catalog: MdsCatalog | undefined): void {
  const verdict = signInVerdict(policy, aaguid, catalog);
  if (!verdict.ok) throw unauthenticated(verdict.reason, verdict.message);
}
