import type { TenantConfig } from "./tenant-config.js";
import { AuthError } from "../errors.js";

/** Resolves a request's tenant field; empty selects the default tenant. */
export class Tenants {
  #default!: TenantConfig;
  #byId!: ReadonlyMap<string, TenantConfig>;
  #byRpId!: ReadonlyMap<string, TenantConfig>;

  /** `others` are the further tenants of a tenants file; the default is among them or not. */
  constructor(defaultTenant: TenantConfig, others: readonly TenantConfig[] = []) {
    this.replace(defaultTenant, others);
  }

  /** A reloaded tenants file: calls resolved from now on see the new tenants. */
  replace(defaultTenant: TenantConfig, others: readonly TenantConfig[]): void {
    this.#byId = new Map([...others, defaultTenant].map((t) => [t.id, t]));
    // Reversed so that the first tenant of an RP ID wins; they agree on its documents anyway.
    this.#byRpId = new Map([...this.#byId.values()].reverse().map((t) => [t.rpId, t]));
    this.#default = defaultTenant;
  }

  get defaultTenant(): TenantConfig {
    return this.#default;
  }

  /** The tenant id a request's field names, known or not ("" is the default). */
  idOf(field: string): string {
    return field === "" ? this.#default.id : field;
  }

  resolve(id: string): TenantConfig {
    const tenant = this.#byId.get(this.idOf(id));
    if (tenant) return tenant;
    throw new AuthError("TENANT_UNKNOWN", "tenant: not configured", { field: "tenant" });
  }

  /**
   * The tenant whose RP ID is `rpId` (lower-case). Tenants that share an RP ID agree on what its
   * well-known documents say (the tenants file refuses them otherwise), so the first one serves.
   */
  byRpId(rpId: string): TenantConfig | undefined {
    return this.#byRpId.get(rpId);
  }

  all(): readonly TenantConfig[] {
    return [...this.#byId.values()];
  }
}
