/** Domain types shared by the ceremony logic and the store. */

/** "step-up": an authentication bound to an operation; only VerifyOperation consumes it. */
export type CeremonyKind = "registration" | "authentication" | "step-up";
export type UserVerification = "required" | "preferred" | "discouraged";

/** A begun ceremony, identified by its single-use challenge (base64url). */
export interface Ceremony {
  readonly kind: CeremonyKind;
  readonly tenant: string;
  readonly challenge: string;
  /** Registration: the enrolling user. Authentication: the named user, absent when discoverable. */
  readonly userId: string | undefined;
  /** Registration only: the WebAuthn user handle (base64url) the options carried. */
  readonly userHandle: string | undefined;
  readonly userVerification: UserVerification;
  /** Step-up only: the operation digest (base64url) the challenge is bound to. */
  readonly operationDigest?: string | undefined;
  /** Registration with a profile that names algorithms: finish accepts only these (COSE ids). */
  readonly algorithms?: readonly number[] | undefined;
  /** Registration only: conditional create, whose attestation may come without user presence. */
  readonly conditional?: boolean | undefined;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Who began it, for the finish's audit event: caller identity and the end user's client. */
  readonly beganBy: { readonly caller: string; readonly clientIp: string; readonly clientUserAgent: string };
}

/** A registered credential as stored. */
export interface StoredCredential {
  readonly tenant: string;
  readonly credentialId: string;
  readonly userId: string;
  readonly userHandle: string;
  readonly publicKey: Uint8Array;
  readonly counter: number;
  readonly transports: readonly string[];
  readonly aaguid: string;
  readonly attestationFormat: string;
  readonly userVerified: boolean;
  readonly backupEligible: boolean;
  readonly backedUp: boolean;
  readonly name: string;
  readonly createdAt: number;
  readonly lastUsedAt: number | undefined;
  readonly revokedAt: number | undefined;
  readonly revocationReason: string | undefined;
  /** Set when a signature counter went backwards (a cloned authenticator is suspected). */
  readonly cloneSuspectedAt?: number | undefined;
  /** Registration extension outputs as the client reported them (unsigned, informational); undefined: not reported. */
  readonly discoverable?: boolean | undefined;
  readonly prfEnabled?: boolean | undefined;
  readonly largeBlobSupported?: boolean | undefined;
  /** Registered by conditional create (automatic passkey upgrade). */
  readonly createdConditionally?: boolean | undefined;
}

/** What an allowCredentials / excludeCredentials entry needs. */
export interface CredentialDescriptor {
  readonly id: string;
  readonly transports: readonly string[];
}

/** The names a user's passkeys show: the account name (user.name) and the display name. */
export interface UserNames {
  readonly userName: string;
  readonly displayName: string;
}
