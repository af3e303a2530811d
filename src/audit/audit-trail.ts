import type { AuditStore } from "../store/audit-store.js";
import type { AuditEvent } from "./audit-event.js";
import { openPageToken, sealPageToken } from "./page-token.js";

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
    private readonly pageTokenSecret: Uint8Array,
  ) {}

  /**
   * The page after `pageToken` ("" for the first). The token is checked before `ownerOf` (which
   * names a credential's user) is asked, so a forged token costs no store read.
   */
  async page(s: AuditSelection, limit: number, pageToken: string, ownerOf: () => Promise<string | undefined>): Promise<AuditTrailPage> {
    const query = JSON.stringify([s.tenant, s.userId, s.credentialId, s.from, s.to]);
    const position = pageToken ? openPageToken(this.pageTokenSecret, query, pageToken) : undefined;
    const page = await this.store.list({
      tenant: s.tenant,
      by: s.userId ? { userId: s.userId } : { credentialId: s.credentialId, ownerId: await ownerOf() },
      from: s.from,
      to: s.to,
      limit,
      position,
    });
    return {
      events: page.events,
      nextPageToken: page.position ? sealPageToken(this.pageTokenSecret, query, page.position) : "",
    };
  }
}
