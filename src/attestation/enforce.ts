import { unauthenticated } from "../errors.js";
import type { VerifiedRegistration } from "../webauthn/verify-registration.js";
import { attestationChain } from "./attestation-chain.js";
import type { MdsCatalog } from "./mds-blob.js";
import type { AttestationPolicy } from "./policy.js";
import { trustVerdict } from "./trust-policy.js";

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
