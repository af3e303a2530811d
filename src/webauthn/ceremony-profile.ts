import type { AuthenticatorAttachment, PublicKeyCredentialHint, ResidentKeyRequirement } from "@simplewebauthn/server";
import type { UserVerification } from "./ceremony.js";
import { atLeast } from "./user-verification.js";

/** WebAuthn Level 3 hints: which kind of authenticator the browser should offer first. */
export type Hint = PublicKeyCredentialHint;

/**
 * A tenant's named ceremony profile (tenants file `profiles`), e.g. "step-up" or "admin"; every
 * field is optional and falls back to the tenant's defaults. User verification and algorithms
 * are enforced at finish (sealed in the challenge); attachment, hints and the timeout only guide
 * the browser.
 */
export interface CeremonyProfile {
  readonly userVerification?: UserVerification | undefined;
  readonly timeoutSeconds?: number | undefined;
  readonly hints?: readonly Hint[] | undefined;
  /** Registration only: WebAuthn get() has no attachment (hints steer it instead). */
  readonly attachment?: AuthenticatorAttachment | undefined;
  /** Registration only. */
  readonly residentKey?: ResidentKeyRequirement | undefined;
  /** Registration only: a subset of the tenant's algorithms, in the order offered. */
  readonly algorithms?: readonly number[] | undefined;
}

/**
 * The profile a request names and what it asks for itself (empty hints: none asked for); each
 * field set overrides the profile's (see ceremonyChoices).
 */
export interface CeremonyRequest extends Pick<CeremonyProfile, "userVerification" | "hints" | "attachment" | "residentKey"> {
  readonly profile?: CeremonyProfile | undefined;
}

/** The tenant settings a ceremony's choices start from. */
export interface CeremonyDefaults {
  /** The floor: what a request or profile asks for is raised to it. */
  readonly userVerification: UserVerification;
  readonly challengeTtlSeconds: number;
  readonly algorithms: readonly number[];
}

/** A ceremony's options, resolved: request over profile over tenant. */
export interface CeremonyChoices {
  readonly userVerification: UserVerification;
  readonly timeoutMs: number;
  readonly hints: readonly Hint[];
  readonly attachment: AuthenticatorAttachment | undefined;
  readonly residentKey: ResidentKeyRequirement;
  /** Offered in pubKeyCredParams. */
  readonly algorithms: readonly number[];
  /** The profile's algorithms, to seal in the challenge; undefined when the tenant's list applies. */
  readonly sealedAlgorithms: readonly number[] | undefined;
}

/**
 * Each field of the request overrides the profile's, except user verification: the profile's is a
 * floor like the tenant's (a request may ask for more, never less), so a caller that always sends
 * PREFERRED does not undo an "admin" profile's REQUIRED.
 */
export function ceremonyChoices(tenant: CeremonyDefaults, request: CeremonyRequest): CeremonyChoices {
  const profile = request.profile ?? {};
  const floor = atLeast(tenant.userVerification, profile.userVerification ?? tenant.userVerification);
  return {
    userVerification: atLeast(floor, request.userVerification ?? profile.userVerification ?? "preferred"),
    timeoutMs: (profile.timeoutSeconds ?? tenant.challengeTtlSeconds) * 1000,
    hints: request.hints?.length ? request.hints : (profile.hints ?? []),
    attachment: request.attachment ?? profile.attachment,
    residentKey: request.residentKey ?? profile.residentKey ?? "required",
    algorithms: profile.algorithms ? allowedAlgorithms(tenant.algorithms, profile.algorithms) : tenant.algorithms,
    sealedAlgorithms: profile.algorithms,
  };
}

/**
 * The algorithms a registration finish accepts: the tenant's (as configured now), narrowed to the
 * ones sealed at begin, so a profile's restriction holds even if a reload removed the profile.
 */
export function allowedAlgorithms(tenantAlgorithms: readonly number[], sealed: readonly number[] | undefined): readonly number[] {
  return sealed ? sealed.filter((alg) => tenantAlgorithms.includes(alg)) : tenantAlgorithms;
}
