import { auditScope, type AuditStore } from "../store/audit-store.js";
import type { ServerSecrets } from "../server-secrets.js";
import type { AuditEvent } from "./audit-event.js";
import { openPageToken, sealPageToken } from "./page-token.js";

/** The end of the times a listing may name (the store's sort keys hold 13 digits). */
export { AUDIT_TIME_LIMIT_MS } from "../store/audit-store.js";

/** Which events a reader asked for: one user's or one credential's, between `from` and `to`. */
export interface AuditSelection {
  readonly tenant: string;
  /** Exactly one of userId and credentialId is set (the other is ""). */
  readonly userId: string;
  readonly credentialId: string;
  readonly from: number;
  readonly to: number;
}

export interface AuditTrailPage {
  readonly events: AuditEvent[];
  /** "" on the last page. */
  readonly nextPageToken: string;
}

/**
 * Reading the audit trail a page at a time. A page's end travels to the caller as a page token
 * sealed to exactly its selection, so the store's positions never leave the server unsealed.
 */
export class AuditTrail {
  constructor(
    private readonly store: Pick<AuditStore, "list">,
    /** MAC page tokens: the first seals, all open. */
    private readonly pageTokenKeys: ServerSecrets["pageTokenKeys"],
  ) {}

  /**
   * The page after `pageToken` ("" for the first). A token is bound to exactly its selection and
   * to where it is read (`ownerOf` names a credential's user): once a credential's owner changes
   * (an erase), its old tokens are refused here rather than by the store.
   */
  async page(s: AuditSelection, limit: number, pageToken: string, ownerOf: () => Promise<string | undefined>): Promise<AuditTrailPage> {
    const scope = auditScope(s.tenant, s.userId ? { userId: s.userId } : { credentialId: s.credentialId, ownerId: await ownerOf() });
    const query = JSON.stringify([s.tenant, s.userId, s.credentialId, s.from, s.to, scope.partition, scope.credentialFilter ?? ""]);
    const position = pageToken ? openPageToken(this.pageTokenKeys, query, pageToken) : undefined;
    const page = await this.store.list({ scope, from: s.from, to: s.to, limit, position });
    return {
      events: page.events,
      nextPageToken: page.position ? sealPageToken(this.pageTokenKeys, query, page.position) : "",
    };
  }
}
