import type { Logger } from "pino";
import { requireMetadataFor } from "../attestation/enforce.js";
import type { CallerAuthorizer, CallerPolicy } from "../callers/policy.js";
import { every, fileStamp } from "../file-poll.js";
import type { TenantDefaults } from "./tenant-config.js";
import { readTenantsFile, tenantConfigsOf } from "./tenants-file.js";
import type { Tenants } from "./tenants.js";

export interface TenantsFileReloaderOptions {
  readonly path: string;
  readonly defaults: TenantDefaults;
  readonly tenants: Tenants;
  /** The running caller policy, or undefined when the service started without one. */
  readonly authorizer: CallerAuthorizer | undefined;
  /** Whether the service has an MDS BLOB (MDS_BLOB_FILE): tenants that verify attestation need one. */
  readonly hasMetadata: boolean;
  readonly logger: Logger;
}

/**
 * Applies an edited tenants file without a restart: polls its stamp (fileStamp) and re-reads it
 * when that changes. A file that does not validate,
 * or that changes how callers are identified (adds or removes `callers`, changes
 * `callerIdentity` or `allowAnonymousCallers`: these decide the TLS setup checked at start, or
 * `xfccTrustedHops`, read once into the identity reader), or
 * that adds a tenant verifying attestation to a service without an MDS BLOB (as at start), keeps
 * the running configuration and logs `tenants_reload_failed`.
 */
export class TenantsFileReloader {
  #stopPolling = () => {};
  #stamp: string | undefined;

  constructor(private readonly opts: TenantsFileReloaderOptions) {}

  /** Remembers the file as loaded at start, then polls. */
  async start(intervalSeconds: number): Promise<void> {
    this.#stamp = await fileStamp(this.opts.path).catch(() => undefined);
    this.#stopPolling = every(intervalSeconds, () => this.reload());
  }

  stop(): void {
    this.#stopPolling();
  }

  /** Re-reads the file if it changed; true when a new configuration is in use. Never throws. */
  async reload(): Promise<boolean> {
    const { path, defaults, tenants, authorizer, hasMetadata, logger } = this.opts;
    let stamp: string;
    try {
      stamp = await fileStamp(path);
    } catch (err) {
      logger.error({ event: "tenants_reload_failed", path, err }, "tenants file cannot be read; keeping the running configuration");
      return false;
    }
    if (stamp === this.#stamp) return false;
    // Whatever the outcome, this version has been judged: a bad file is reported once, not every poll.
    this.#stamp = stamp;
    try {
      const file = readTenantsFile(path, defaults);
      assertSameIdentitySource(authorizer?.policy, file.callers);
      const { defaultTenant, tenants: all } = tenantConfigsOf(file);
      requireMetadataFor(all, hasMetadata);
      tenants.replace(defaultTenant, all);
      if (authorizer && file.callers) authorizer.replace(file.callers);
      logger.info({ event: "tenants_reloaded", path, tenants: all.map((t) => t.id) }, "tenants file reloaded");
      return true;
    } catch (err) {
      logger.error(
        { event: "tenants_reload_failed", path, error: (err as Error).message },
        "tenants file refused; keeping the running configuration",
      );
      return false;
    }
  }
}

function assertSameIdentitySource(running: CallerPolicy | undefined, next: CallerPolicy | undefined): void {
  const source = (p: CallerPolicy | undefined) => (p ? `${p.callerIdentity}/${p.xfccTrustedHops ?? 1}/${p.allowAnonymousCallers}` : "none");
  if (source(running) !== source(next)) {
    throw new Error(
      "callers: adding or removing the caller policy, or changing callerIdentity, xfccTrustedHops or allowAnonymousCallers, needs a restart",
    );
  }
}
