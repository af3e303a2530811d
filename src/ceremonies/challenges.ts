import type { TenantConfig } from "../tenants/tenant-config.js";
import { unauthenticated } from "../errors.js";
import { countChallenge } from "../telemetry/metrics.js";
import type { SigningKey } from "../tokens/signing-key.js";
import type { Ceremony, CeremonyKind } from "../webauthn/ceremony.js";
import { type CeremonyFields, openChallenge, type OpenedChallenge, sealChallenge, type SealKey, sealKeyOf } from "../webauthn/sealed-challenge.js";
import type { CeremonyDeps } from "./deps.js";

/** Seal keys are derived once per signing key (HKDF), not per call. */
const sealKeys = new WeakMap<SigningKey, SealKey>();
function sealKeyFor(key: SigningKey): SealKey {
  let sealKey = sealKeys.get(key);
  if (!sealKey) sealKeys.set(key, (sealKey = sealKeyOf(key.derivedSecret)));
  return sealKey;
}

/**
 * Begins a ceremony: its challenge is the sealed ceremony itself (no DynamoDB request), valid for
 * the tenant's challenge TTL and openable by every replica that holds the signing key ring.
 */
export function beginCeremony(
  deps: CeremonyDeps,
  tenant: TenantConfig,
  fields: Pick<Ceremony, "kind" | "userId" | "userHandle" | "userVerification" | "beganBy" | "operationDigest" | "algorithms" | "conditional">,
): Ceremony {
  const createdAt = deps.clock();
  const ceremony: CeremonyFields = {
    ...fields,
    tenant: tenant.id,
    createdAt,
    expiresAt: createdAt + tenant.challengeTtlSeconds * 1000,
  };
  const challenge = sealChallenge(sealKeyFor(deps.keys.signingKey(createdAt)), ceremony);
  countChallenge(ceremony.kind, "issued");
  return { ...ceremony, challenge };
}

/**
 * Opens a challenge for a ceremony of `kind` in `tenant` (no I/O): refused when it was not sealed
 * by a key of this ring that may still have open challenges (KeyRing.challengeKeys), belongs to
 * another tenant or kind (CHALLENGE_INVALID) or has expired (CHALLENGE_EXPIRED). A refusal here
 * changes nothing: the challenge stays usable.
 */
export function openCeremony(deps: CeremonyDeps, tenant: TenantConfig, challenge: string, kind: CeremonyKind): OpenedChallenge {
  const opened = openChallenge(deps.keys.challengeKeys(deps.clock()).map(sealKeyFor), challenge);
  if (!opened || opened.ceremony.tenant !== tenant.id || opened.ceremony.kind !== kind) {
    throw unauthenticated("CHALLENGE_INVALID", "unknown or already used challenge");
  }
  if (opened.ceremony.expiresAt <= deps.clock()) {
    throw unauthenticated("CHALLENGE_EXPIRED", "the challenge has expired; begin a new ceremony");
  }
  return opened;
}

/**
 * Uses an opened challenge up: ONE conditional put of its consumed marker, so of any number of
 * concurrent finishes on any replicas exactly one proceeds. Callers check everything stateless
 * (e.g. a step-up binding) before, so a refusal there leaves the challenge usable.
 */
export async function markConsumed(deps: CeremonyDeps, opened: OpenedChallenge): Promise<Ceremony> {
  const { ceremony } = opened;
  if (!(await deps.store.challenges.markChallengeUsed(ceremony.tenant, opened.nonce, ceremony.expiresAt))) {
    throw unauthenticated("CHALLENGE_INVALID", "unknown or already used challenge");
  }
  countChallenge(ceremony.kind, "consumed");
  return ceremony;
}

/** Opens and uses up a ceremony's challenge (see openCeremony and markConsumed). */
export async function consumeCeremony(deps: CeremonyDeps, tenant: TenantConfig, challenge: string, kind: CeremonyKind): Promise<Ceremony> {
  return markConsumed(deps, openCeremony(deps, tenant, challenge, kind));
}
