import { jsonDocumentHandler } from "../http/document.js";
import type { KeyRing } from "./key-ring.js";

/** Where the JWK Set is served as plain HTTP on the service's port. */
export const JWKS_PATH = "/.well-known/jwks.json";

/**
 * How long verifiers may cache the set. Keys are published before they sign (activation time in
 * the future) and stay published for a session lifetime after they stop, so a verifier whose copy
 * is this old still knows every key that signs; a verifier that meets an unknown kid refetches
 * (jose's createRemoteJWKSet does).
 */
export const JWKS_MAX_AGE_SECONDS = 300;

/** The JWK Set (RFC 7517) of the keys published at `now`, as JSON. */
export function jwksJson(ring: KeyRing, now: number): string {
  return JSON.stringify(ring.jwks(now));
}

/**
 * `GET /.well-known/jwks.json` with Cache-Control and an ETag (a conditional GET gets 304), for
 * verifiers that fetch JWKS over HTTP (jose, Envoy's jwt_authn, API gateways).
 */
export function jwksHttpHandler(ring: KeyRing, clock: () => number) {
  return jsonDocumentHandler({ contentType: "application/jwk-set+json", maxAgeSeconds: JWKS_MAX_AGE_SECONDS, body: () => jwksJson(ring, clock()) });
}
