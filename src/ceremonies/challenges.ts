import type { TenantConfig } from "../config.js";
import type { ChallengeBinding } from "../store/challenge-store.js";
import { countChallenge } from "../telemetry/metrics.js";
import type { Ceremony, CeremonyKind } from "../webauthn/ceremony.js";
import { boundChallenge } from "../step-up/operation.js";
import { newChallenge } from "../webauthn/options.js";
import type { CeremonyDeps } from "./deps.js";

/**
 * Stores a new single-use challenge for a ceremony; it expires after the tenant's challenge TTL.
 * A ceremony with an operation digest gets a challenge bound to it.
 */
export async function beginCeremony(
  deps: CeremonyDeps,
  tenant: TenantConfig,
  ceremony: Pick<Ceremony, "kind" | "userId" | "userHandle" | "userVerification" | "beganBy" | "operationDigest">,
): Promise<Ceremony> {
  const createdAt = deps.clock();
  const stored: Ceremony = {
    ...ceremony,
    tenant: tenant.id,
    challenge: ceremony.operationDigest ? boundChallenge(ceremony.operationDigest) : newChallenge(),
    createdAt,
    expiresAt: createdAt + tenant.challengeTtlSeconds * 1000,
  };
  await deps.store.challenges.put(stored);
  countChallenge(stored.kind, "issued");
  return stored;
}

/** Consumes a ceremony's challenge (one conditional delete; see ChallengeStore.consume). */
export async function consumeCeremony(
  deps: CeremonyDeps,
  tenant: TenantConfig,
  challenge: string,
  kind: CeremonyKind,
  binding?: ChallengeBinding,
): Promise<Ceremony> {
  const ceremony = await deps.store.challenges.consume(tenant.id, challenge, kind, deps.clock(), binding);
  countChallenge(kind, "consumed");
  return ceremony;
}
