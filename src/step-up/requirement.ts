/** What an operation demands (RFC 9470); see authn.v1.StepUpRequirement. */
export interface Requirement {
  /** Undefined: any authentication within the session's lifetime. */
  readonly maxAgeSeconds: number | undefined;
  readonly requireUserVerification: boolean;
  /** Acceptable acr values; empty accepts any. */
  readonly acrValues: readonly string[];
  readonly requireDeviceBound: boolean;
  readonly singleUse: boolean;
}

export const NO_REQUIREMENT: Requirement = Object.freeze({
  maxAgeSeconds: undefined,
  requireUserVerification: false,
  acrValues: Object.freeze([]),
  requireDeviceBound: false,
  singleUse: false,
});

/** How a subject authenticated, as a session token, a grant or a fresh assertion tells it. */
export interface AuthenticationFacts {
  /** Epoch ms. */
  readonly authTime: number;
  readonly acr: string;
  readonly amr: readonly string[];
}

/** Which part of a requirement the facts miss. */
export type Shortfall = "max_age" | "user_verification" | "device_bound" | "acr";

/**
 * "phrh" (hardware-protected) is a strict superset of "phr" (phishing-resistant), so a request for
 * phr is met by phrh; any other value must match exactly.
 */
function acrSatisfies(acr: string, acceptable: readonly string[]): boolean {
  return acceptable.length === 0 || acceptable.includes(acr) || (acr === "phrh" && acceptable.includes("phr"));
}

/** The first part of `req` that `facts` do not meet at `now` (epoch ms), or undefined. */
export function shortfall(req: Requirement, facts: AuthenticationFacts, now: number): Shortfall | undefined {
  if (req.maxAgeSeconds !== undefined && now - facts.authTime > req.maxAgeSeconds * 1000) return "max_age";
  if (req.requireUserVerification && !facts.amr.includes("mfa")) return "user_verification";
  if (req.requireDeviceBound && !facts.amr.includes("hwk")) return "device_bound";
  if (!acrSatisfies(facts.acr, req.acrValues)) return "acr";
  return undefined;
}
