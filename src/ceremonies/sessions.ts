import { LRUCache } from "lru-cache";
import type { AuditEvent, AuditFacts, CallContext } from "../audit/audit-event.js";
import { newSessionId, parseSessionId } from "../audit/session-id.js";
import type { TenantConfig } from "../tenants/tenant-config.js";
import { AuthError } from "../errors.js";
import { MAX_SESSION_TTL_SECONDS } from "../lifetimes.js";
import { issueSessionToken } from "../tokens/session-token.js";
import type { AssuranceClaims } from "../webauthn/assurance.js";
import type { CeremonyDeps } from "./deps.js";

/** What Sessions uses of the ceremony dependencies. */
export type SessionDeps = Pick<CeremonyDeps, "store" | "keys" | "clock" | "auditor">;

/** What opens a session: an accepted assertion's user, credential, time and assurance, and its event's facts. */
export interface SessionOpening {
  readonly userId: string;
  readonly credentialId: string;
  /** Epoch ms: the instant the session id names, the token's auth_time and the sign-in event's time. */
  readonly authTime: number;
  readonly assurance: AssuranceClaims;
  readonly facts: AuditFacts;
}

export interface OpenedSession {
  readonly sessionId: string;
  readonly token: string;
  readonly expiresAt: number;
}

/**
 * The one owner of sessions: opens them, lists them, revokes them. Sessions are the audit events
 * of successful sign-ins (so a sign-in needs no extra write). Token checks ask `isRevoked`, which
 * caches answers for `stalenessSeconds`: a revocation reaches every replica within that bound.
 */
export class Sessions {
  private readonly revokedCache: LRUCache<string, boolean>;

  constructor(
    private readonly deps: SessionDeps,
    stalenessSeconds: number,
  ) {
    // ttlResolution 0: each lookup reads performance.now() rather than lru-cache's default of a
    // clock cached for 1 ms by a setTimeout per millisecond, which at thousands of checks a second
    // cost a timer per call or so on the ext_authz / VerifyOperation hot path.
    this.revokedCache = new LRUCache({ max: 100_000, ttl: Math.max(stalenessSeconds, 0.001) * 1000, ttlResolution: 0 });
  }

  /**
   * Mints the session id, signs the token and writes the sign-in's audit event, which is the
   * session record, all for the one instant `authTime`: `AuditStore.findSession` looks for the
   * event at the time the id names (the auditor takes the event's time from the id). The token is
   * returned only once that event is durable: an audit write that fails fails the call.
   */
  async open(tenant: TenantConfig, opening: SessionOpening, call: CallContext): Promise<OpenedSession> {
    const { userId, credentialId, authTime, assurance, facts } = opening;
    const sessionId = newSessionId(userId, authTime);
    const token = await issueSessionToken(
      this.deps.keys.signingKey(authTime),
      { jti: sessionId, tenant: tenant.id, userId, credentialId, authTime, ...assurance },
      tenant.sessionTtlSeconds,
    );
    await this.deps.auditor.sessionOpened(
      tenant,
      call,
      { ...facts, details: { ...facts.details, amr: assurance.amr.join(" "), acr: assurance.acr } },
      { sessionId, expiresAt: token.expiresAt },
    );
    return { sessionId, token: token.token, expiresAt: token.expiresAt };
  }

  /**
   * Sessions with auth time after this may be unexpired, whatever lifetime the tenant has now: a
   * reload may have shortened it since they were issued. Each session's stored expiry decides.
   */
  private oldestLive(): number {
    return this.deps.clock() - MAX_SESSION_TTL_SECONDS * 1000;
  }

  list(tenant: TenantConfig, userId: string): Promise<AuditEvent[]> {
    return this.deps.store.audit.sessionsOfUser(tenant.id, userId, this.oldestLive(), this.deps.clock());
  }

  async revoke(tenant: TenantConfig, sessionId: string, call: CallContext): Promise<AuditEvent> {
    const session = await this.find(tenant.id, sessionId);
    if (!session?.session) throw new AuthError("SESSION_NOT_FOUND", "no such session");
    const now = this.deps.clock();
    if (await this.deps.store.audit.revokeSession(session, now)) {
      await this.deps.auditor.success("session_revoked", tenant, call, {
        userId: session.userId,
        credentialId: session.credentialId,
        details: { session_id: sessionId },
      });
    }
    this.revokedCache.set(`${tenant.id}\0${sessionId}`, true);
    return { ...session, session: { ...session.session, revokedAt: session.session.revokedAt ?? now } };
  }

  /** "Sign out everywhere": revokes every unexpired session of the user. */
  async revokeAll(tenant: TenantConfig, userId: string, call: CallContext, reason = "sign out everywhere"): Promise<number> {
    const live = await this.list(tenant, userId);
    return this.revokeEach(tenant, live, call, { scope: "user", reason });
  }

  /** Revoking a credential revokes the sessions it created. */
  async revokeForCredential(tenant: TenantConfig, userId: string, credentialId: string, call: CallContext): Promise<number> {
    const live = await this.deps.store.audit.sessionsOfCredential(tenant.id, userId, credentialId, this.oldestLive(), this.deps.clock());
    return this.revokeEach(tenant, live, call, { scope: "credential", reason: "credential revoked" });
  }

  private async revokeEach(tenant: TenantConfig, live: AuditEvent[], call: CallContext, details: Record<string, string>): Promise<number> {
    const now = this.deps.clock();
    let revoked = 0;
    for (const event of live) {
      if (event.session?.revokedAt === undefined && (await this.deps.store.audit.revokeSession(event, now))) revoked++;
      this.revokedCache.set(`${tenant.id}\0${event.session!.sessionId}`, true);
    }
    if (revoked > 0) {
      const first = live[0]!;
      await this.deps.auditor.success("session_revoked", tenant, call, {
        userId: first.userId,
        credentialId: details.scope === "credential" ? first.credentialId : "",
        details: { ...details, sessions: String(revoked) },
      });
    }
    return revoked;
  }

  /**
   * For token checks: whether the session was revoked, at most `stalenessSeconds` out of date. A
   * session no sign-in recorded counts as revoked: the service returns a token only once its
   * record is durable, so such a token was signed elsewhere — with a leaked key, e.g. a retired
   * one that stays published for the longest session lifetime.
   */
  async isRevoked(tenant: string, sessionId: string): Promise<boolean> {
    const key = `${tenant}\0${sessionId}`;
    const cached = this.revokedCache.get(key);
    if (cached !== undefined) return cached;
    const session = await this.find(tenant, sessionId);
    const revoked = session?.session === undefined || session.session.revokedAt !== undefined;
    this.revokedCache.set(key, revoked);
    return revoked;
  }

  /** The sign-in event a session id names; undefined for an id that names none (not one of ours). */
  private async find(tenant: string, sessionId: string): Promise<AuditEvent | undefined> {
    const at = parseSessionId(sessionId);
    return at ? this.deps.store.audit.findSession(tenant, at, sessionId) : undefined;
  }
}
