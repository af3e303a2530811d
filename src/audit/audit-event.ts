import { randomUUID } from "node:crypto";
import { trace } from "@opentelemetry/api";
import type { AuditEvent, AuditEventType, CallContext, SessionFacts } from "../store/audit-record.js";

// The event's shape is the trail's record, so it lives with the store that keeps it (the store
// imports nothing above it); rpc, which may not import the store, and the domain name it from here.
export type { AuditEvent, AuditEventType, CallContext, SessionFacts } from "../store/audit-record.js";

/** What a caller knows about an event; session facts are not among them: `Auditor.sessionOpened` alone writes those. */
export type AuditFacts = Partial<Omit<AuditEvent, "eventId" | "time" | "type" | "outcome" | "tenant" | "session" | keyof CallContext>>;

/** `more` over `facts`: its defined fields replace, its details add to those already known. */
export function mergeFacts(facts: AuditFacts, more: AuditFacts): AuditFacts {
  // A loop, not entries/filter/fromEntries: it runs several times on every ceremony (bench/NOTES.md).
  const merged: Record<string, unknown> = { ...facts };
  for (const key in more) {
    const value = more[key as keyof AuditFacts];
    if (value !== undefined) merged[key] = value;
  }
  merged.details = { ...facts.details, ...more.details };
  return merged as AuditFacts;
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
