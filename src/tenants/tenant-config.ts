import type { AttestationPolicy } from "../attestation/policy.js";
import type { AssertionPolicy } from "../webauthn/assertion-policy.js";
import type { CeremonyProfile } from "../webauthn/ceremony-profile.js";

/** Where a user creates (enroll) and manages (manage) passkeys; both optional, `{}` only says "passkeys supported". */
export interface PasskeyEndpoints {
  readonly enroll?: string | undefined;
  readonly manage?: string | undefined;
}

/** The least user verification a tenant accepts. */
export type UserVerificationPolicy = "required" | "preferred" | "discouraged";

/** A relying party as the service uses it: from the environment (one tenant) or the tenants file. */
export interface TenantConfig {
  readonly id: string;
  readonly rpId: string;
  readonly rpName: string;
  readonly origins: readonly string[];
  /**
   * Origins on other sites that use this RP ID (WebAuthn Level 3 §5.11): accepted like `origins`
   * and published at /.well-known/webauthn. Absent or empty: none.
   */
  readonly relatedOrigins?: readonly string[] | undefined;
  /** Published at /.well-known/passkey-endpoints; absent: no document. */
  readonly passkeyEndpoints?: PasskeyEndpoints | undefined;
  readonly challengeTtlSeconds: number;
  readonly sessionTtlSeconds: number;
  readonly attestation: AttestationPolicy;
  /** What a suspected clone or a flag that contradicts the credential's record does. */
  readonly assertion: AssertionPolicy;
  /** The least user verification the tenant accepts: requests asking for less are raised to it. */
  readonly userVerification: UserVerificationPolicy;
  /** COSE algorithm ids offered at registration and accepted when verifying it, in preference order. */
  readonly algorithms: readonly number[];
  /** Named ceremony profiles a request selects with `profile`; none when absent. */
  readonly profiles?: ReadonlyMap<string, CeremonyProfile>;
}

/** The environment's lifetimes (CHALLENGE_TTL_SECONDS, SESSION_TTL_SECONDS), for tenants that set none. */
export interface TenantDefaults {
  readonly challengeTtlSeconds: number;
  readonly sessionTtlSeconds: number;
}
