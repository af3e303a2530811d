import { Caches } from "../cache.js";
import type { TenantConfig } from "../config.js";
import type { StoredCredential } from "../webauthn/ceremony.js";
import type { CeremonyDeps } from "./deps.js";

/**
 * Managing passkeys on a user's behalf. Revocation needs no cache invalidation on other
 * replicas: the sign-in's conditional write refuses a revoked or deleted credential.
 */
export class CredentialLifecycle {
  constructor(private readonly deps: CeremonyDeps) {}

  list(tenant: TenantConfig, userId: string): Promise<StoredCredential[]> {
    return this.deps.store.credentials.allForUser(tenant.id, userId);
  }

  rename(tenant: TenantConfig, userId: string, credentialId: string, name: string): Promise<StoredCredential> {
    return this.deps.store.credentials.rename(tenant.id, userId, credentialId, name);
  }

  async revoke(tenant: TenantConfig, userId: string, credentialId: string, reason: string): Promise<StoredCredential> {
    const revoked = await this.deps.store.credentials.revoke(tenant.id, userId, credentialId, reason, this.deps.clock());
    this.deps.caches.userCredentials?.delete(Caches.key(tenant.id, userId));
    return revoked;
  }

  /**
   * Deletes every credential, then the user record. Not one transaction: a failure part-way
   * leaves fewer credentials, never a credential without its user's consent, and a retry finishes
   * the job (each step is idempotent).
   */
  async deleteUser(tenant: TenantConfig, userId: string): Promise<number> {
    const { store, caches } = this.deps;
    const credentials = await store.credentials.allForUser(tenant.id, userId);
    for (const c of credentials) {
      await store.credentials.delete(tenant.id, c.credentialId);
      caches.credentials.delete(Caches.key(tenant.id, c.credentialId));
    }
    await store.users.delete(tenant.id, userId);
    caches.userCredentials?.delete(Caches.key(tenant.id, userId));
    return credentials.length;
  }
}
