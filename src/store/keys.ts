/**
 * Every partition key starts with the tenant (relying party) id, so multi-tenant deployments
 * need no data migration. Tenant ids hold no '#', so the prefix cannot collide.
 */
export function tenantKey(tenant: string, id: string): string {
  return `${tenant}#${id}`;
}
