/** How long audit events are kept (AUDIT_RETENTION_DAYS); SDK-free, so config.ts may import it before telemetry starts. */
export const DEFAULT_AUDIT_RETENTION_DAYS = 400;
