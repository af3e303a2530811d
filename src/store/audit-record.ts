/**
 * One audit event as the trail records it (audit-store.ts persists it; src/audit builds it and
 * re-exports these types from audit-event.ts for rpc and the domain).
 */

/** What happened; mirrors authn.v1.AuditEventType. */
export type AuditEventType =
  | "registration"
  | "authentication"
  | "step_up"
  | "credential_renamed"
  | "credential_revoked"
  | "user_erased"
  | "user_updated"
  | "clone_suspected"
  | "clone_warning_cleared"
  | "signing_key_rotated"
  | "session_revoked"
  | "call_denied";

/** Who is calling and for which end user: what every event records about the request. */
export interface CallContext {
  /** The calling service's identity (mTLS or mesh, src/callers); empty when not identified. */
  readonly caller: string;
  readonly clientIp: string;
  readonly clientUserAgent: string;
}

/** A successful sign-in's event is also its session record. */
export interface SessionFacts {
  readonly sessionId: string;
  readonly expiresAt: number;
  readonly revokedAt?: number | undefined;
}

export interface AuditEvent extends CallContext {
  readonly eventId: string;
  readonly time: number;
  readonly type: AuditEventType;
  readonly outcome: "success" | "failure";
  readonly reason: string;
  readonly tenant: string;
  readonly userId: string;
  readonly credentialId: string;
  readonly aaguid: string;
  readonly traceId: string;
  readonly ceremonyBeganAt: number | undefined;
  readonly session: SessionFacts | undefined;
  readonly details: Readonly<Record<string, string>>;
}
