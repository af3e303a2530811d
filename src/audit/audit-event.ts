import { randomUUID } from "node:crypto";
import { trace } from "@opentelemetry/api";

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

/** What a caller knows about an event; session facts are not among them: `Auditor.sessionOpened` alone writes those. */
export type AuditFacts = Partial<Omit<AuditEvent, "eventId" | "time" | "type" | "outcome" | "tenant" | "session" | keyof CallContext>>;

/** `more` over `facts`: its defined fields replace, its details add to those already known. */
export function mergeFacts(facts: AuditFacts, more: AuditFacts): AuditFacts {
  const defined = Object.fromEntries(Object.entries(more).filter(([, value]) => value !== undefined));
  return { ...facts, ...defined, details: { ...facts.details, ...more.details } };
}

/** The active span's trace id, or "" when tracing is off. */
function currentTraceId(): string {
  const context = trace.getActiveSpan()?.spanContext();
  return context && trace.isSpanContextValid(context) ? context.traceId : "";
}

export function auditEvent(
  type: AuditEventType,
  outcome: AuditEvent["outcome"],
  tenant: string,
  call: CallContext,
  time: number,
  facts: AuditFacts,
  session?: SessionFacts,
): AuditEvent {
  return {
    eventId: randomUUID(),
    time,
    type,
    outcome,
    tenant,
    caller: call.caller,
    clientIp: call.clientIp,
    clientUserAgent: call.clientUserAgent,
    reason: facts.reason ?? "",
    userId: facts.userId ?? "",
    credentialId: facts.credentialId ?? "",
    aaguid: facts.aaguid ?? "",
    traceId: facts.traceId ?? currentTraceId(),
    ceremonyBeganAt: facts.ceremonyBeganAt,
    session,
    details: facts.details ?? {},
  };
}
