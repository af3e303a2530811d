import { markConsumed, openCeremony } from "../ceremonies/challenges.js";
import { unauthenticated } from "../errors.js";
import type { AuthenticationCeremony } from "../ceremonies/authentication.js";
import type { CeremonyDeps } from "../ceremonies/deps.js";
import type { TenantConfig } from "../config.js";
import { assuranceOf } from "../webauthn/assurance.js";
import { preflightAuthentication } from "../webauthn/preflight.js";
import { verifyAuthentication } from "../webauthn/verify-authentication.js";
import type { AuthenticationFacts } from "./requirement.js";
import { Denial } from "./verdict.js";

/** What a step-up challenge must be bound to for VerifyOperation to accept it. */
export interface ChallengeBinding {
  readonly operationDigest: string;
  /** The session's subject; a challenge begun for another user is refused (USER_MISMATCH). */
  readonly userId: string;
}

export interface BoundAssertion extends AuthenticationFacts {
  readonly credentialId: string;
  readonly aaguid: string;
}

/**
 * Verifies a step-up assertion: its sealed challenge must be bound to the operation (checked
 * before any store access), it is used up by one conditional put of its consumed marker once the
 * subject matches too, the credential must be the subject's, and the counter update refuses a
 * revoked credential. DynamoDB: 2 requests (+1 GetItem on a credential cache miss).
 */
export async function verifyBoundAssertion(
  deps: CeremonyDeps,
  authentication: AuthenticationCeremony,
  tenant: TenantConfig,
  credentialJson: string,
  binding: ChallengeBinding,
  requireUserVerification: boolean,
): Promise<BoundAssertion> {
  const preflighted = preflightAuthentication(credentialJson, tenant);
  const { json, clientData } = preflighted;
  const opened = openCeremony(deps, tenant, clientData.challenge, "step-up");
  if (opened.ceremony.operationDigest !== binding.operationDigest) {
    throw new Denial("OPERATION_MISMATCH", "the assertion's challenge is bound to another operation");
  }
  if (opened.ceremony.userId !== undefined && opened.ceremony.userId !== binding.userId) {
    throw unauthenticated("USER_MISMATCH", "the challenge was issued to another user");
  }
  const ceremony = await markConsumed(deps, opened);
  const credential = await authentication.credential(tenant, json.id);
  const userHandle = json.response.userHandle;
  if (credential.userId !== binding.userId || (userHandle && userHandle !== credential.userHandle)) {
    throw new Denial("SUBJECT_MISMATCH", "the assertion's credential belongs to another user");
  }
  const assertion = await verifyAuthentication(
    preflighted,
    {
      challenge: ceremony.challenge,
      origins: tenant.origins,
      rpId: tenant.rpId,
      requireUserVerification: requireUserVerification || ceremony.userVerification === "required",
    },
    credential,
  );
  const authTime = await authentication.recordAssertion(tenant, credential, assertion);
  return { credentialId: credential.credentialId, aaguid: credential.aaguid, authTime, ...assuranceOf(assertion) };
}
