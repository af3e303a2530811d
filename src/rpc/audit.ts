import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { AuditEvent as DomainEvent } from "../audit/audit-event.js";
import { invalidField } from "../errors.js";
import {
  type AuditEvent,
  AuditEventSchema,
  AuditEventType,
  AuditOutcome,
  ListAuditEventsResponseSchema,
} from "../gen/authn/v1/audit_pb.js";
import type { AuthService } from "../gen/authn/v1/auth_service_pb.js";
import { AUDIT_TIME_LIMIT_MS } from "../audit/audit-trail.js";
import type { CeremonyHandlersDeps } from "./deps.js";
import { optionalTimestamp, sized, timestampWithin, toTimestamp } from "./fields.js";
import { MAX_CREDENTIAL_ID_CHARS, MAX_PAGE_TOKEN_BYTES, MAX_USER_ID_BYTES } from "../field-limits.js";

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 500;

export function auditEventMessage(e: DomainEvent): AuditEvent {
  return create(AuditEventSchema, {
    eventId: e.eventId,
    time: toTimestamp(e.time),
    type: AuditEventType[e.type.toUpperCase() as keyof typeof AuditEventType],
    outcome: e.outcome === "success" ? AuditOutcome.SUCCESS : AuditOutcome.FAILURE,
    reason: e.reason,
    tenant: e.tenant,
    userId: e.userId,
    credentialId: e.credentialId,
    aaguid: e.aaguid,
    caller: e.caller,
    clientIp: e.clientIp,
    clientUserAgent: e.clientUserAgent,
    traceId: e.traceId,
    ceremonyBeganAt: optionalTimestamp(e.ceremonyBeganAt),
    sessionId: e.session?.sessionId ?? "",
    details: { ...e.details },
  });
}

/** ListAuditEvents: proto ↔ domain mapping only. */
export function auditHandlers({ tenants, auditTrail, lifecycle }: CeremonyHandlersDeps): Pick<ServiceImpl<typeof AuthService>, "listAuditEvents"> {
  return {
    async listAuditEvents(req) {
      const tenant = tenants.resolve(req.tenant);
      const userId = sized("user_id", req.userId, 0, MAX_USER_ID_BYTES);
      const credentialId = sized("credential_id", req.credentialId, 0, MAX_CREDENTIAL_ID_CHARS);
      if (Boolean(userId) === Boolean(credentialId)) throw invalidField("user_id", "set exactly one of user_id and credential_id");
      if (req.pageSize < 0 || req.pageSize > MAX_PAGE_SIZE) throw invalidField("page_size", `0..${MAX_PAGE_SIZE}`);
      const from = req.startTime ? timestampWithin("start_time", req.startTime, 0, AUDIT_TIME_LIMIT_MS) : 0;
      const to = req.endTime ? timestampWithin("end_time", req.endTime, 0, AUDIT_TIME_LIMIT_MS) : AUDIT_TIME_LIMIT_MS;
      if (from >= to) throw invalidField("end_time", "must be after start_time");
      const pageToken = sized("page_token", req.pageToken, 0, MAX_PAGE_TOKEN_BYTES);
      const page = await auditTrail.page(
        { tenant: tenant.id, userId, credentialId, from, to },
        req.pageSize || DEFAULT_PAGE_SIZE,
        pageToken,
        () => lifecycle.ownerOf(tenant, credentialId),
      );
      return create(ListAuditEventsResponseSchema, { events: page.events.map(auditEventMessage), nextPageToken: page.nextPageToken });
    },
  };
}
