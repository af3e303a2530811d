/**
 * Every partition key starts with the tenant (relying party) id, so multi-tenant deployments
 * need no data migration. Tenant ids hold no '#', so the prefix cannot collide.
 */
export function tenantKey(tenant: string, id: string): string {
  return `${tenant}#${id}`;
}

/**
 * The service's own record of the highest FIDO MDS BLOB serial number used, in the users
 * table. It starts with '#', which no tenantKey does (tenant ids are never empty).
 */
export const MDS_SERIAL_KEY = "#service#mds-blob-no";
