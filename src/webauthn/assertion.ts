import type { AuthenticationResponseJSON } from "@simplewebauthn/server";
import { parseClientData, type ClientData } from "./client-data.js";
import { parseAuthenticationJson, type ParsedAuthentication } from "./credential-json.js";

/**
 * An assertion decoded once (JSON, clientDataJSON, authenticator data, signature), so preflight
 * and verification share one parse. Decoding checks only form: every relying-party check is
 * the verifier's (src/webauthn/fast-assertion.ts), whatever preflight already refused.
 */
export interface ParsedAssertion extends ParsedAuthentication {
  readonly json: AuthenticationResponseJSON;
  readonly clientData: ClientData;
}

/** What the relying party expects of an assertion: its challenge, origins, RP ID and user verification. */
export interface AuthenticationExpectation {
  readonly challenge: string;
  readonly origins: readonly string[];
  readonly rpId: string;
  readonly requireUserVerification: boolean;
}

/** What a verified assertion tells: its counter and flags. */
export interface VerifiedAssertion {
  readonly newCounter: number;
  readonly userVerified: boolean;
  readonly backupEligible: boolean;
  readonly backedUp: boolean;
}

/** Malformed input (not JSON, wrong shape, undecodable authenticator data) is CREDENTIAL_MALFORMED. */
export function parseAssertion(credentialJson: string): ParsedAssertion {
  const parsed = parseAuthenticationJson(credentialJson);
  return { ...parsed, clientData: parseClientData(parsed.json.response.clientDataJSON) };
}
