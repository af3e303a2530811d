import type { UserVerification } from "./ceremony.js";

const STRENGTH: Readonly<Record<UserVerification, number>> = { discouraged: 0, preferred: 1, required: 2 };

/**
 * A tenant's user-verification policy is a floor: a request asking for less is raised to it
 * (never refused), so callers need not know each tenant's policy. `required` is then enforced
 * at finish because the ceremony records the raised value.
 */
export function atLeast(floor: UserVerification, requested: UserVerification): UserVerification {
  return STRENGTH[requested] >= STRENGTH[floor] ? requested : floor;
}
