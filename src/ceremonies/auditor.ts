import { metrics } from "@opentelemetry/api";
import { Caches } from "../cache.js";
import type { TenantConfig } from "../config.js";
import { AuthError } from "../errors.js";
import { auditEvent, type AuditEventType, type AuditFacts, type CallContext } from "../audit/audit-event.js";
import { isSecurityAlert, type FailureVerdict } from "../audit/failure-sampler.js";
import { countCeremony } from "../telemetry/metrics.js";
import type { Ceremony } from "../webauthn/ceremony.js";
import type { CeremonyDeps } from "./deps.js";
import { MAX_CREDENTIAL_ID_CHARS } from "../field-limits.js";

const meter = metrics.getMeter("dynauthn");
const lostEvents = meter.createCounter("dynauthn.audit.events_lost", { description: "Failure audit events that could not be written" });
const suppressedEvents = meter.createCounter("dynauthn.audit.events_suppressed", {
  description: "Failure audit events not written because their source exceeded AUDIT_FAILURES_PER_SOURCE or all sources AUDIT_FAILURES_TOTAL",
});

/** What the audit trail keeps of the Begin call: when, and who began it, if not the finisher. */
export function beginFacts(ceremony: Ceremony): AuditFacts {
  const details: Record<string, string> = {};
  if (ceremony.beganBy.caller) details.begin_caller = ceremony.beganBy.caller;
  if (ceremony.beganBy.clientIp) details.begin_client_ip = ceremony.beganBy.clientIp;
  if (ceremony.beganBy.clientUserAgent) details.begin_client_user_agent = ceremony.beganBy.clientUserAgent;
  return { userId: ceremony.userId, ceremonyBeganAt: ceremony.createdAt, details };
}

/**
 * The credential id a refused request named, read leniently so that even a request refused for
 * its shape leaves an event findable by credential (ids are at most 1023 bytes, base64url).
 */
export function credentialIdHint(credentialJson: string): string {
  try {
    const id: unknown = JSON.parse(credentialJson)?.id;
    return typeof id === "string" && id.length <= MAX_CREDENTIAL_ID_CHARS && /^[A-Za-z0-9_-]+$/.test(id) ? id : "";
  } catch {
    return "";
  }
}

/** Who owns a credential id (cached facts, else one read); undefined when no one does. */
export async function credentialOwner(deps: CeremonyDeps, tenant: string, credentialId: string): Promise<string | undefined> {
  const cached = deps.caches.credentials.get(Caches.key(tenant, credentialId));
  return cached?.userId ?? (await deps.store.credentials.get(tenant, credentialId))?.userId;
}

/**
 * Writes audit events. Successes are written before the call succeeds (callers await and let a
 * failure fail the call); failures are best-effort: a lost one is logged and counted, never
 * thrown over the refusal it records, and a flood of them from one source is sampled
 * (FailureSampler; the source is tenant, type, reason, client IP and caller) — except security
 * alerts (isSecurityAlert), which a flood of other refusals must not push out.
 */
export class Auditor {
  constructor(private readonly deps: CeremonyDeps) {}

  async success(type: AuditEventType, tenant: TenantConfig, call: CallContext, facts: AuditFacts): Promise<void> {
    const event = auditEvent(type, "success", tenant.id, call, this.deps.clock(), facts);
    await this.deps.store.audit.put(event);
    countCeremony(event);
  }

  async failure(type: AuditEventType, tenant: TenantConfig, call: CallContext, facts: AuditFacts, err: unknown): Promise<void> {
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
        event = { ...event, userId: (await credentialOwner(this.deps, tenant.id, event.credentialId)) ?? "" };
      }
      await this.deps.store.audit.put(event);
    } catch (writeErr) {
      lostEvents.add(1, { type, reason });
      this.deps.logger.error(
        { err: writeErr, eventId: event.eventId, type, reason, tenant: tenant.id },
        "audit event lost: could not write a failure event",
      );
    }
  }
}
