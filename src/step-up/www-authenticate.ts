import type { Requirement } from "./requirement.js";

/** RFC 9470's error code for "authenticate again, at this level". */
export const INSUFFICIENT_USER_AUTHENTICATION = "insufficient_user_authentication";

/** RFC 6750 auth-param values are quoted strings: escape backslash and double quote. */
function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/**
 * The WWW-Authenticate value of a step-up challenge (RFC 9470 §3), e.g.
 * `Bearer error="insufficient_user_authentication", error_description="...", acr_values="phrh", max_age="300"`.
 */
export function stepUpChallenge(req: Requirement): string {
  const params = [
    `error=${quoted(INSUFFICIENT_USER_AUTHENTICATION)}`,
    `error_description=${quoted("A passkey assertion for this operation is required")}`,
  ];
  if (req.acrValues.length > 0) params.push(`acr_values=${quoted(req.acrValues.join(" "))}`);
  if (req.maxAgeSeconds !== undefined) params.push(`max_age=${quoted(String(req.maxAgeSeconds))}`);
  return `Bearer ${params.join(", ")}`;
}

/** The WWW-Authenticate value for a missing (no error, RFC 6750 §3.1) or invalid bearer token. */
export function bearerChallenge(error?: "invalid_token"): string {
  return error ? `Bearer error=${quoted(error)}` : "Bearer";
}
