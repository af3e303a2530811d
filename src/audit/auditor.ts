import { metrics } from "@opentelemetry/api";
import type { Logger } from "pino";
import { AuthError } from "../errors.js";
import { countCeremony } from "../telemetry/metrics.js";
import { auditEvent, type AuditEvent, type AuditEventType, type AuditFacts, type CallContext, type SessionFacts } from "./audit-event.js";
import { isSecurityAlert, type FailureSampler, type FailureVerdict } from "./failure-sampler.js";
import { parseSessionId } from "./session-id.js";

const meter = metrics.getMeter("dynauthn");
const lostEvents = meter.createCounter("dynauthn.audit.events_lost", { description: "Failure audit events that could not be written" });
const suppressedEvents = meter.createCounter("dynauthn.audit.events_suppressed", {
  description: "Failure audit events not written because their source exceeded AUDIT_FAILURES_PER_SOURCE or all sources AUDIT_FAILURES_TOTAL",
});

/** What the auditor needs, and no more: declared here, met by the audit store, the sampler and the clock. */
export interface AuditorDeps {
  /** The audit trail's one write the auditor makes itself (AuditStore.put). */
  readonly trail: { put(event: AuditEvent): Promise<void> };
  /** Which refusals are written (all are counted). */
  readonly failureAudit: Pick<FailureSampler, "admit">;
  /** Epoch milliseconds: the time of every event but a sign-in's. */
  readonly clock: () => number;
  readonly logger: Pick<Logger, "error">;
  /** Who owns a credential id, undefined when no one does: a refusal that named only a credential is filed under its owner. */
  readonly credentialOwner: (tenant: string, credentialId: string) => Promise<string | undefined>;
}

/** How a success event is made durable, when not by the auditor's own put. */
export interface SuccessWrite {
  /** The event's time, when it must equal a time written beside it (a credential's createdAt). */
  readonly time?: number;
  /** Writes the event together with what it records (one transaction), instead of alone. */
  readonly write?: (event: AuditEvent) => Promise<void>;
}

/**
 * The one way audit events are written. Successes are written before the call succeeds (callers
 * await and let a failure fail the call); failures are best-effort: a lost one is logged and
 * counted, never thrown over the refusal it records, and a flood of them from one source is
 * sampled (FailureSampler; the source is tenant, type, reason, client IP and caller).
 */
export class Auditor {
  constructor(private readonly deps: AuditorDeps) {}

  async success(type: AuditEventType, tenant: { readonly id: string }, call: CallContext, facts: AuditFacts, how: SuccessWrite = {}): Promise<void> {
    await this.written(auditEvent(type, "success", tenant.id, call, how.time ?? this.deps.clock(), facts), how.write);
  }

  /**
   * A sign-in's event, which is also its session record. Its time is the one the session id
   * names, read from the id itself: `AuditStore.findSession` looks for the event at that instant
   * alone, so no other time can be written.
   */
  async sessionOpened(tenant: { readonly id: string }, call: CallContext, facts: AuditFacts, session: SessionFacts): Promise<AuditEvent> {
    const named = parseSessionId(session.sessionId);
    if (!named) throw new Error("not a session id: sessions are opened by Sessions.open");
    const event = auditEvent("authentication", "success", tenant.id, call, named.time, facts, session);
    await this.written(event);
    return event;
  }

  private async written(event: AuditEvent, write: (event: AuditEvent) => Promise<void> = (e) => this.deps.trail.put(e)): Promise<void> {
    await write(event);
    countCeremony(event);
  }

  async failure(type: AuditEventType, tenant: { readonly id: string }, call: CallContext, facts: AuditFacts, err: unknown): Promise<void> {
    // A caller that knows the refusal better (e.g. a step-up denial) passes facts.reason.
    const reason = facts.reason || (err instanceof AuthError ? err.reason : "INTERNAL");
    let event = auditEvent(type, "failure", tenant.id, call, this.deps.clock(), { ...facts, reason });
    countCeremony(event);
    const verdict: FailureVerdict = isSecurityAlert(type, reason)
      ? { write: true, suppressedBefore: 0 }
      : this.deps.failureAudit.admit([tenant.id, type, reason, call.clientIp, call.caller].join("\n"));
    if (!verdict.write) {
      suppressedEvents.add(1, { type, reason });
      return;
    }
    if (verdict.suppressedBefore > 0) {
      event = { ...event, details: { ...event.details, suppressed_before: String(verdict.suppressedBefore) } };
    }
    try {
      // A refusal before the user was known (e.g. a phishing origin) belongs in the owner's trail.
      if (!event.userId && event.credentialId) {
        event = { ...event, userId: (await this.deps.credentialOwner(tenant.id, event.credentialId)) ?? "" };
      }
      await this.deps.trail.put(event);
    } catch (writeErr) {
      lostEvents.add(1, { type, reason });
      this.deps.logger.error(
        { err: writeErr, eventId: event.eventId, type, reason, tenant: tenant.id },
        "audit event lost: could not write a failure event",
      );
    }
  }
}
