import { MAX_SESSION_ID_BYTES } from "../audit/session-id.js";
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { AuditEvent } from "../audit/audit-event.js";
import type { AuthService } from "../gen/authn/v1/auth_service_pb.js";
import {
  ListSessionsResponseSchema,
  RevokeAllSessionsResponseSchema,
  RevokeSessionResponseSchema,
  type Session,
  SessionSchema,
} from "../gen/authn/v1/sessions_pb.js";
import type { CeremonyHandlersDeps } from "./deps.js";
import { userIdOf } from "./credentials.js";
import { callContextOf, optionalTimestamp, sized, toTimestamp } from "./fields.js";

function sessionMessage(e: AuditEvent): Session {
  return create(SessionSchema, {
    sessionId: e.session?.sessionId ?? "",
    userId: e.userId,
    credentialId: e.credentialId,
    authTime: toTimestamp(e.time),
    expiresAt: toTimestamp(e.session?.expiresAt ?? e.time),
    clientIp: e.clientIp,
    clientUserAgent: e.clientUserAgent,
    caller: e.caller,
    revokedAt: optionalTimestamp(e.session?.revokedAt),
  });
}

type SessionHandlers = Pick<ServiceImpl<typeof AuthService>, "listSessions" | "revokeSession" | "revokeAllSessions">;

/** ListSessions / RevokeSession / RevokeAllSessions: proto ↔ domain mapping only. */
export function sessionHandlers({ tenants, sessions }: CeremonyHandlersDeps): SessionHandlers {
  return {
    async listSessions(req) {
      const live = await sessions.list(tenants.resolve(req.tenant), userIdOf(req));
      return create(ListSessionsResponseSchema, { sessions: live.map(sessionMessage) });
    },

    async revokeSession(req, ctx) {
      const tenant = tenants.resolve(req.tenant);
      const session = await sessions.revoke(tenant, sized("session_id", req.sessionId, 1, MAX_SESSION_ID_BYTES), callContextOf(ctx));
      return create(RevokeSessionResponseSchema, { session: sessionMessage(session) });
    },

    async revokeAllSessions(req, ctx) {
      const revoked = await sessions.revokeAll(tenants.resolve(req.tenant), userIdOf(req), callContextOf(ctx));
      return create(RevokeAllSessionsResponseSchema, { revokedSessions: revoked });
    },
  };
}
