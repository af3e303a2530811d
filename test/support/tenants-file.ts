import { parseTenantsFile } from "../../src/tenants/tenants-file.js";

/** The environment's lifetimes the unit tests give every tenants file. */
export const TENANT_DEFAULTS = { challengeTtlSeconds: 300, sessionTtlSeconds: 3600 };

/** The message a tenants file is refused with; fails the test if the file is accepted. */
export function tenantsFileRefusal(text: string): string {
  try {
    parseTenantsFile(text, "t.yaml", TENANT_DEFAULTS);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("expected the file to be refused");
}
