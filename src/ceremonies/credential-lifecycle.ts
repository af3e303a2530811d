import type { CallContext } from "../audit/audit-event.js";
import { Caches } from "./credential-cache.js";
import type { TenantConfig } from "../tenants/tenant-config.js";
import type { StoredCredential } from "../webauthn/ceremony.js";
import { credentialOwner } from "./audit-facts.js";
import type { CeremonyDeps } from "./deps.js";
import type { Sessions } from "./sessions.js";
import type { UserNames } from "../webauthn/ceremony.js";
import { allAcceptedCredentialsSignal, currentUserDetailsSignal, type BrowserSignal } from "../webauthn/signals.js";

/**
 * Managing passkeys on a user's behalf. Revocation needs no cache invalidation on other
 * replicas: the sign-in's conditional write refuses a revoked or deleted credential. Each change
 * is audited before the call succeeds.
 */
export class CredentialLifecycle {

  constructor(
    private readonly deps: CeremonyDeps,
    private readonly sessions: Sessions,
  ) {}

  /**
   * The user's credentials, revoked ones included, and the signalAllAcceptedCredentials call
   * naming the usable ones. The newest credential carries the user's current handle (an erase and
   * a new start give a new one); a user with none is asked for its handle (one read, then only),
   * so that a passkey whose registration never finished is hidden too. No signal for a user
   * without a record.
   */
  async list(tenant: TenantConfig, userId: string): Promise<{ readonly credentials: StoredCredential[]; readonly signal: BrowserSignal | undefined }> {
    const { store } = this.deps;
    const credentials = await store.credentials.allForUser(tenant.id, userId);
    const userHandle = credentials.at(-1)?.userHandle ?? (await store.users.handleOf(tenant.id, userId));
    const usable = credentials.filter((c) => c.revokedAt === undefined).map((c) => c.credentialId);
    return { credentials, signal: userHandle === undefined ? undefined : allAcceptedCredentialsSignal(tenant.rpId, userHandle, usable) };
  }

  /** Who owns a credential id (the credential record, cached or read): undefined when no one does. */
  ownerOf(tenant: TenantConfig, credentialId: string): Promise<string | undefined> {
    return credentialOwner(this.deps, tenant.id, credentialId);
  }

  async rename(tenant: TenantConfig, userId: string, credentialId: string, name: string, call: CallContext): Promise<StoredCredential> {
    const renamed = await this.deps.store.credentials.rename(tenant.id, userId, credentialId, name);
    await this.deps.auditor.success("credential_renamed", tenant, call, { userId, credentialId, details: { name } });
    return renamed;
  }

  /**
   * Revokes the credential and the sessions it created; the signal names the user's remaining
   * usable credentials, read first (the by-user index may not show the revocation yet, so the
   * revoked id is taken out by name).
   */
  async revoke(
    tenant: TenantConfig,
    userId: string,
    credentialId: string,
    reason: string,
    call: CallContext,
  ): Promise<{ readonly credential: StoredCredential; readonly signal: BrowserSignal }> {
    const usable = await this.deps.store.credentials.listForUser(tenant.id, userId);
    const revoked = await this.deps.store.credentials.revoke(tenant.id, userId, credentialId, reason, this.deps.clock());
    this.deps.caches.userCredentials?.delete(Caches.key(tenant.id, userId));
    const sessions = await this.sessions.revokeForCredential(tenant, userId, credentialId, call);
    await this.deps.auditor.success("credential_revoked", tenant, call, {
      userId,
      credentialId,
      aaguid: revoked.aaguid,
      details: { reason, sessions_revoked: String(sessions) },
    });
    const remaining = usable.map((c) => c.id).filter((id) => id !== credentialId);
    return { credential: revoked, signal: allAcceptedCredentialsSignal(tenant.rpId, revoked.userHandle, remaining) };
  }

  /**
   * Changes the names the user's passkeys show (UpdateUser): only for a user with a record, which
   * the store's condition keeps an erase from losing to; audited. Resolves the
   * signalCurrentUserDetails call with the new names.
   */
  async updateUser(tenant: TenantConfig, userId: string, names: UserNames, call: CallContext): Promise<BrowserSignal> {
    const userHandle = await this.deps.store.users.updateNames(tenant.id, userId, names);
    await this.deps.auditor.success("user_updated", tenant, call, {
      userId,
      details: { user_name: names.userName, display_name: names.displayName },
    });
    return currentUserDetailsSignal(tenant.rpId, userHandle, names.userName, names.displayName);
  }

  /**
   * Clears a credential's clone suspicion (ClearCloneWarning), after an administrator checked the
   * authenticator; audited whether or not it was flagged. A clone whose counter is still behind
   * flags it again at its next assertion.
   */
  async clearCloneWarning(tenant: TenantConfig, userId: string, credentialId: string, reason: string, call: CallContext): Promise<StoredCredential> {
    const { credential, suspectedAt } = await this.deps.store.credentials.clearCloneSuspected(tenant.id, userId, credentialId);
    await this.deps.auditor.success("clone_warning_cleared", tenant, call, {
      userId,
      credentialId,
      aaguid: credential.aaguid,
      details: { reason, ...(suspectedAt === undefined ? { was_flagged: "false" } : { clone_suspected_at: String(suspectedAt) }) },
    });
    return credential;
  }

  /**
   * Deletes the user record first: from then on no registration begun before can finish (its
   * write is conditioned on the handle), and the record names every credential registered
   * (the by-user index may lag behind a registration of a moment ago; it still names credentials
   * registered before records named them). Then every credential (no sign-in or step-up can then
   * pass its counter write), then the sessions (after the credentials, so that a sign-in that
   * passed its counter write just before is among them), then records the erase. Not one
   * transaction: a failure part-way leaves less, and a retry finishes the job (each step is
   * idempotent). The audit trail keeps its events (including this one) until retention expires
   * them: compliance needs the record of what happened. The signal (an empty accepted list under
   * the user's handle, so the browser's provider hides every passkey of the user) is undefined
   * when neither a record nor a credential names a handle.
   */
  async deleteUser(tenant: TenantConfig, userId: string, call: CallContext): Promise<{ readonly deleted: number; readonly signal: BrowserSignal | undefined }> {
    const { store, caches } = this.deps;
    const named = await store.users.delete(tenant.id, userId);
    const indexed = await store.credentials.allForUser(tenant.id, userId);
    const credentialIds = new Set([...named.credentialIds, ...indexed.map((c) => c.credentialId)]);
    const userHandle = named.userHandle ?? indexed.at(-1)?.userHandle;
    for (const credentialId of credentialIds) {
      await store.credentials.delete(tenant.id, credentialId);
      caches.credentials.delete(Caches.key(tenant.id, credentialId));
    }
    caches.userCredentials?.delete(Caches.key(tenant.id, userId));
    await this.sessions.revokeAll(tenant, userId, call, "user erased");
    await this.deps.auditor.success("user_erased", tenant, call, {
      userId,
      details: { credentials_deleted: String(credentialIds.size) },
    });
    return { deleted: credentialIds.size, signal: userHandle === undefined ? undefined : allAcceptedCredentialsSignal(tenant.rpId, userHandle, []) };
  }
}
