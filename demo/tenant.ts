/**
 * The demo's relying party settings beyond RP ID and origins (WebAuthn Level 3), in the tenants
 * file's shape: `npm run demo` writes them into the tenants file it gives dynauthn, and the browser
 * suite passes the same settings to the dynauthn it starts, so both run the same relying party.
 */

/** The profile the sensitive action's step-up asks for (VerifyOperation's `profile`). */
export const STEP_UP_PROFILE = "step-up";

/** The profiles the demo names: a step-up that must verify the user, on this device first. */
export const DEMO_PROFILES = {
  [STEP_UP_PROFILE]: { userVerification: "required", hints: ["client-device"], timeoutSeconds: 120 },
} as const;

/**
 * What the demo's site publishes under its RP ID. Browsers honour related origins only for an RP
 * ID with a registrable domain, fetched over https, and passkey endpoints are https URLs: a site
 * on http://localhost (`npm run demo`) has neither, and dynauthn refuses such settings; the
 * browser suite runs the demo as https://acme-notes.com, where both are served and used.
 */
export function demoWellKnown(site: URL, relatedOrigins: readonly string[] = []) {
  if (site.protocol !== "https:") return {};
  return {
    ...(relatedOrigins.length > 0 ? { relatedOrigins: [...relatedOrigins] } : {}),
    passkeyEndpoints: { enroll: new URL("/#add-passkey", site).href, manage: new URL("/#passkeys", site).href },
  };
}
