import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { AuditEvent as DomainEvent } from "../audit/audit-event.js";
import { openPageToken, sealPageToken } from "../audit/page-token.js";
import { invalidField } from "../errors.js";
import {
  type AuditEvent,
  AuditEventSchema,
  AuditEventType,
  AuditOutcome,
  ListAuditEventsResponseSchema,
} from "../gen/authn/v1/audit_pb.js";
import type { AuthService } from "../gen/authn/v1/auth_service_pb.js";
import { AUDIT_TIME_LIMIT_MS, auditScope, type AuditStore } from "../store/audit-store.js";
import type { CeremonyHandlersDeps } from "./registration.js";
import { optionalTimestamp, sized, timestampWithin, toTimestamp } from "./fields.js";

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 500;
/** A sealed position (the last key of a page, at most ≈ 2.5 KB) and its MAC. */
const MAX_PAGE_TOKEN_BYTES = 4096;

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

/** ListAuditEvents: proto ↔ domain mapping and page tokens. */
export function auditHandlers({ tenants, audit, lifecycle, pageTokenKeys }: CeremonyHandlersDeps): Pick<ServiceImpl<typeof AuthService>, "listAuditEvents"> {
  return {
    async listAuditEvents(req) {
      const tenant = tenants.resolve(req.tenant);
      const userId = sized("user_id", req.userId, 0, 128);
      const credentialId = sized("credential_id", req.credentialId, 0, 1366);
      if (Boolean(userId) === Boolean(credentialId)) throw invalidField("user_id", "set exactly one of user_id and credential_id");
      if (req.pageSize < 0 || req.pageSize > MAX_PAGE_SIZE) throw invalidField("page_size", `0..${MAX_PAGE_SIZE}`);
      const from = req.startTime ? timestampWithin("start_time", req.startTime, 0, AUDIT_TIME_LIMIT_MS) : 0;
      const to = req.endTime ? timestampWithin("end_time", req.endTime, 0, AUDIT_TIME_LIMIT_MS) : AUDIT_TIME_LIMIT_MS;
      if (from >= to) throw invalidField("end_time", "must be after start_time");
      const pageToken = sized("page_token", req.pageToken, 0, MAX_PAGE_TOKEN_BYTES);
      const scope = auditScope(
        tenant.id,
        userId ? { userId } : { credentialId, ownerId: await lifecycle.ownerOf(tenant, credentialId) },
      );
      // The token is bound to exactly this selection and to where it is read: once a credential's
      // owner changes (an erase), its old tokens are refused here rather than by the store.
      const query = JSON.stringify([tenant.id, userId, credentialId, from, to, scope.partition, scope.credentialFilter ?? ""]);
      const position = pageToken ? toKey(openPageToken(pageTokenKeys, query, pageToken)) : undefined;
      const page = await audit.list({ scope, from, to, limit: req.pageSize || DEFAULT_PAGE_SIZE, position });
      return create(ListAuditEventsResponseSchema, {
        events: page.events.map(auditEventMessage),
        nextPageToken: page.position ? sealPageToken(pageTokenKeys, query, fromKey(page.position)) : "",
      });
    },
  };
}

type Key = NonNullable<Parameters<AuditStore["list"]>[0]["position"]>;

function fromKey(key: Key): Record<string, string> {
  return Object.fromEntries(Object.entries(key).map(([k, v]) => [k, v.S ?? ""]));
}

function toKey(position: Record<string, string>): Key {
  return Object.fromEntries(Object.entries(position).map(([k, v]) => [k, { S: v }]));
}
