import type { AttestationConveyancePreference } from "@simplewebauthn/server";
import type { AttestationPolicy } from "./policy.js";

/**
 * The attestation conveyance a registration asks the browser for. A tenant that verifies
 * attestation (direct/enterprise) decides, whatever the request asked; under `none` the
 * request's preference stands, as before tenant policies, since the service accepts any answer.
 */
export function conveyanceFor(policy: AttestationPolicy, requested: AttestationConveyancePreference): AttestationConveyancePreference {
  return policy.conveyance === "none" ? requested : policy.conveyance;
}
