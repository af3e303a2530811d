/**
 * WebAuthn Signal API calls (Level 3 §5.1.10) for the calling backend to hand to the browser, which
 * makes them with `PublicKeyCredential[signal.method](JSON.parse(signal.optionsJson))` so the
 * passkey provider hides or updates what it shows. Pure: the payloads exactly as the browser takes
 * them. `userHandle` is the WebAuthn user handle (base64url), never the caller's user id: the
 * provider knows its passkeys by handle, and the caller's id may be personal data.
 */

export type SignalMethod = "signalUnknownCredential" | "signalAllAcceptedCredentials" | "signalCurrentUserDetails";

export interface BrowserSignal {
  readonly method: SignalMethod;
  /** The method's argument, as JSON. */
  readonly optionsJson: string;
}

/** UnknownCredentialOptions: the relying party has no credential with this id (base64url). */
export function unknownCredentialSignal(rpId: string, credentialId: string): BrowserSignal {
  return { method: "signalUnknownCredential", optionsJson: JSON.stringify({ rpId, credentialId }) };
}

/**
 * AllAcceptedCredentialsOptions: every credential (base64url ids) the relying party accepts for the
 * user; the provider hides the user's others (and shows again any it hid that the list names).
 */
export function allAcceptedCredentialsSignal(rpId: string, userHandle: string, credentialIds: readonly string[]): BrowserSignal {
  return {
    method: "signalAllAcceptedCredentials",
    optionsJson: JSON.stringify({ rpId, userId: userHandle, allAcceptedCredentialIds: [...credentialIds] }),
  };
}

/** CurrentUserDetailsOptions: the names the provider shows for the user's passkeys. */
export function currentUserDetailsSignal(rpId: string, userHandle: string, name: string, displayName: string): BrowserSignal {
  return { method: "signalCurrentUserDetails", optionsJson: JSON.stringify({ rpId, userId: userHandle, name, displayName }) };
}
