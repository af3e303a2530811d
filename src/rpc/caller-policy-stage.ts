import type { Logger } from "pino";
import { CALLER, CALLER_REJECTED } from "../callers/caller-context.js";
import { GUARDED_SERVICES } from "../callers/guarded-procedures.js";
import type { CallDecision, CallerAuthorizer } from "../callers/policy.js";
import type { Auditor } from "../audit/auditor.js";
import type { CallStage } from "./call-pipeline.js";
import { AuthError } from "../errors.js";
import { CheckRequestSchema } from "../gen/envoy/service/auth/v3/external_auth_pb.js";
import type { Tenants } from "../tenants/tenants.js";
import { MAX_CREDENTIAL_ID_CHARS, MAX_USER_ID_BYTES } from "../field-limits.js";

export interface CallerPolicyDeps {
  readonly authorizer: CallerAuthorizer;
  readonly tenants: Tenants;
  readonly auditor: Auditor;
  readonly logger: Logger;
}

/**
 * The tenant field a guarded request names: AuthService's `tenant`, ext_authz's context
 * extension (a missing one is the default tenant, as the handler resolves it); undefined for an
 * RPC that serves no tenant in particular (GetJwks).
 */
function tenantFieldOf(message: unknown): string | undefined {
  const m = message as { $typeName?: string; tenant?: unknown; attributes?: { contextExtensions?: Record<string, string> } };
  if (typeof m.tenant === "string") return m.tenant;
  if (m.$typeName === CheckRequestSchema.typeName) return m.attributes?.contextExtensions?.tenant ?? "";
  return undefined;
}

/** A short string field of the request, for the denial's audit event (bounded: it is untrusted). */
function stringField(message: unknown, name: string, max: number): string | undefined {
  const value = (message as Record<string, unknown> | undefined)?.[name];
  return typeof value === "string" && value.length <= max ? value : undefined;
}

/**
 * Enforces the caller policy on authn.v1.AuthService and the ext_authz service before any
 * handler runs, on every server path (health and reflection pass). A refusal is PERMISSION_DENIED with reason
 * CALLER_NOT_ALLOWED and a CALL_DENIED audit event in the named tenant (the default tenant when
 * the name is unknown, so an untrusted caller cannot create audit partitions). A refused identity
 * header (CALLER_REJECTED) makes the call anonymous: its reason is in the denial's audit event, or
 * logged when the policy lets anonymous callers make the call.
 */
export function callerPolicyStage({ authorizer, tenants, auditor, logger }: CallerPolicyDeps): CallStage {
  return async (call, next) => {
    const service = call.method.parent.typeName;
    if (!GUARDED_SERVICES.has(service)) return next();
    const procedure = `${service}/${call.method.name}`;
    const caller = call.values.get(CALLER);
    const rejected = call.values.get(CALLER_REJECTED);
    // Every guarded RPC is unary; a streaming one would name no tenant, so it is refused.
    const message = call.unary?.message;
    const requestedTenant = call.unary ? tenantFieldOf(message) : "";
    const tenantId = requestedTenant === undefined ? undefined : tenants.idOf(requestedTenant);
    const decision: CallDecision = call.unary
      ? authorizer.decide(caller, procedure, tenantId)
      : { allowed: false, why: "streaming call" };
    if (decision.allowed) {
      if (rejected) logger.warn({ procedure, identity_rejected: rejected }, "caller identity header refused; the call is anonymous");
      return next();
    }

    const refusal = new AuthError("CALLER_NOT_ALLOWED", `caller not allowed: ${decision.why}`);
    let tenant = tenants.defaultTenant;
    try {
      tenant = tenants.resolve(requestedTenant ?? "");
    } catch {
      // An unknown tenant is audited under the default tenant, with the name it gave (bounded).
    }
    const details: Record<string, string> = { procedure, why: decision.why };
    if (rejected) details.identity_rejected = rejected;
    if (tenantId !== undefined && tenant.id !== tenantId) details.requested_tenant = tenantId.slice(0, 64);
    await auditor.failure(
      "call_denied",
      tenant,
      { caller, clientIp: "", clientUserAgent: "" },
      { userId: stringField(message, "userId", MAX_USER_ID_BYTES), credentialId: stringField(message, "credentialId", MAX_CREDENTIAL_ID_CHARS), details },
      refusal,
    );
    throw refusal;
  };
}
