import type { TenantConfig } from "./config.js";
import { AuthError } from "./errors.js";

/** Resolves a request's tenant field; empty selects the default tenant. */
export class Tenants {
  constructor(private readonly defaultTenant: TenantConfig) {}

  resolve(id: string): TenantConfig {
    if (id === "" || id === this.defaultTenant.id) return this.defaultTenant;
    throw new AuthError("TENANT_UNKNOWN", "tenant: not configured", { field: "tenant" });
  }
}
