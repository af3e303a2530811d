import type { AuditFacts } from "../audit/audit-event.js";
import { AuthError, statusOf, type Reason } from "../errors.js";
import type { Requirement } from "./requirement.js";
import type { RequestOptionsJSON } from "../webauthn/options.js";

/** Why an operation is denied; mirrors authn.v1.DenyReason. */
export type DenyReason =
  | "TOKEN_INVALID"
  | "SESSION_REVOKED"
  | "EXPIRED"
  | "REPLAYED"
  | "OPERATION_MISMATCH"
  | "SUBJECT_MISMATCH"
  | "CREDENTIAL_REVOKED"
  | "UV_MISSING"
  | "DEVICE_BOUND_REQUIRED"
  | "ACR_NOT_SATISFIED"
  | "EVIDENCE_INVALID"
  | "CREDENTIAL_CLONE_SUSPECTED";

export interface Allowed {
  readonly decision: "allow";
  readonly subject: string;
  readonly acr: string;
  readonly amr: readonly string[];
  /** Epoch ms. */
  readonly authTime: number;
  readonly credentialId: string;
  readonly operationDigest: string;
  readonly grant: { readonly token: string; readonly jti: string; readonly expiresAt: number; readonly once: boolean };
}

export interface StepUpNeeded {
  readonly decision: "step_up";
  readonly requirement: Requirement;
  readonly wwwAuthenticate: string;
  readonly options: RequestOptionsJSON;
  /** Epoch ms: when the bound challenge stops being accepted. */
  readonly expiresAt: number;
}

export interface Denied {
  readonly decision: "deny";
  readonly reason: DenyReason;
  readonly message: string;
  /** The session token itself was refused (the client must sign in again), not the evidence. */
  readonly ofSession: boolean;
}

export type Verdict = Allowed | StepUpNeeded | Denied;

/** Thrown inside the verifier to end with a DENY verdict. */
export class Denial extends Error {
  override readonly name = "Denial";
  constructor(
    readonly reason: DenyReason,
    message: string,
    readonly ofSession = false,
  ) {
    super(message);
  }

  get verdict(): Denied {
    return { decision: "deny", reason: this.reason, message: this.message, ofSession: this.ofSession };
  }
}

/** The step-up meaning of the assertion path's refusals; any other refusal is EVIDENCE_INVALID. */
const DENIAL_OF: Partial<Record<Reason, DenyReason>> = {
  CHALLENGE_INVALID: "REPLAYED",
  CHALLENGE_EXPIRED: "EXPIRED",
  USER_MISMATCH: "SUBJECT_MISMATCH",
  CREDENTIAL_REVOKED: "CREDENTIAL_REVOKED",
  USER_VERIFICATION_REQUIRED: "UV_MISSING",
  CREDENTIAL_CLONE_SUSPECTED: "CREDENTIAL_CLONE_SUSPECTED",
};

/**
 * A refused assertion is a DENY verdict, not an RPC error: the gateway needs a decision. Store
 * outages, bad request fields and internal errors stay errors.
 */
export function asDenial(err: unknown): unknown {
  if (!(err instanceof AuthError)) return err;
  if (statusOf(err.reason) !== "unauthenticated" && err.reason !== "CREDENTIAL_MALFORMED") return err;
  return new Denial(DENIAL_OF[err.reason] ?? "EVIDENCE_INVALID", err.message);
}

/**
 * The step_up failure event's reason: the denial's, except for the catch-all EVIDENCE_INVALID,
 * where the refusal's own reason (COUNTER_REGRESSION, SIGNATURE_INVALID, ...) is recorded, as a
 * sign-in's event would; details.deny_reason is what the gateway was told.
 */
export function refusalFacts(err: unknown): AuditFacts {
  const denial = err instanceof Denial ? err : asDenial(err);
  if (!(denial instanceof Denial)) return {};
  const reason = denial.reason === "EVIDENCE_INVALID" && err instanceof AuthError ? err.reason : denial.reason;
  return { reason, details: { deny_reason: denial.reason } };
}
