import type { RegistrationResponseJSON } from "@simplewebauthn/server";
import { AuthError } from "../errors.js";
import { parseAssertion, type ParsedAssertion } from "./assertion.js";
import { checkClientData, checkRpIdHash, parseClientData, type ClientData } from "./client-data.js";
import { parseRegistrationJson } from "./credential-json.js";
import type { RegistrationExtensionFacts } from "./extensions.js";

/** Where a ceremony must have happened: the tenant's RP ID and allowed origins. */
export interface RelyingParty {
  readonly rpId: string;
  readonly origins: readonly string[];
  /** Origins on other sites that use this RP ID (WebAuthn Level 3 §5.11): accepted like `origins`. */
  readonly relatedOrigins?: readonly string[] | undefined;
}

/** Every clientDataJSON.origin the relying party accepts; the RP ID hash stays its own RP ID's. */
export function acceptedOrigins(rp: RelyingParty): readonly string[] {
  return rp.relatedOrigins?.length ? [...rp.origins, ...rp.relatedOrigins] : rp.origins;
}

export interface Preflighted<T> {
  readonly json: T;
  readonly clientData: ClientData;
}

/**
 * The checks that need no stored state, run before a challenge is consumed, so malformed input,
 * a phishing origin, a foreign RP ID or the wrong ceremony type change nothing.
 */
export function preflightRegistration(
  credentialJson: string,
  rp: RelyingParty,
): Preflighted<RegistrationResponseJSON> & { readonly extensions: RegistrationExtensionFacts } {
  const { json, authData, extensions } = parseRegistrationJson(credentialJson);
  const clientData = parseClientData(json.response.clientDataJSON);
  checkClientData(clientData, { type: "webauthn.create", origins: acceptedOrigins(rp) });
  checkRpIdHash(authData.rpIdHash, rp.rpId);
  return { json, clientData, extensions };
}

/**
 * Also returns the decoded assertion, so verification does not parse it again. Attested
 * credential data (AT: an AAGUID, a credential id and a key) belongs to a registration only; an
 * assertion carrying it is malformed rather than a second, unchecked claim about the credential.
 */
export function preflightAuthentication(credentialJson: string, rp: RelyingParty): ParsedAssertion {
  const assertion = parseAssertion(credentialJson);
  if (assertion.authData.flags.at) {
    throw new AuthError("CREDENTIAL_MALFORMED", "credential_json: an assertion carries no attested credential data", { field: "credential_json" });
  }
  checkClientData(assertion.clientData, { type: "webauthn.get", origins: acceptedOrigins(rp) });
  checkRpIdHash(assertion.authData.rpIdHash, rp.rpId);
  return assertion;
}
