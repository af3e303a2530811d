/**
 * The RPCs the caller policy guards, by full procedure name (`authn.v1.AuthService/ListCredentials`).
 * Written out rather than read from the generated descriptors: the caller policy is domain code,
 * below the proto contract (test/unit/layering.test.ts). test/unit/caller-policy-rpcs.test.ts
 * fails until this list equals the generated services' methods. An RPC missing here is still
 * guarded (its service is) and closed to anonymous callers; only a policy naming it exactly is
 * refused as matching no RPC.
 */

export const AUTH_SERVICE = "authn.v1.AuthService";
export const EXT_AUTHZ_SERVICE = "envoy.service.auth.v3.Authorization";

/** The services the policy guards, by full name. */
export const GUARDED_SERVICES: ReadonlySet<string> = new Set([AUTH_SERVICE, EXT_AUTHZ_SERVICE]);

const METHODS: Readonly<Record<string, readonly string[]>> = {
  [AUTH_SERVICE]: [
    "BeginRegistration",
    "FinishRegistration",
    "BeginAuthentication",
    "FinishAuthentication",
    "ListCredentials",
    "RenameCredential",
    "RevokeCredential",
    "DeleteUser",
    "ClearCloneWarning",
    "ListAuditEvents",
    "ListSessions",
    "RevokeSession",
    "RevokeAllSessions",
    "VerifyOperation",
    "UpdateUser",
    "GetRelatedOrigins",
    "GetPasskeyEndpoints",
    "GetJwks",
  ],
  [EXT_AUTHZ_SERVICE]: ["Check"],
};

/** Every guarded procedure, `authn.v1.AuthService/BeginRegistration` style. */
export const GUARDED_PROCEDURES: readonly string[] = Object.entries(METHODS).flatMap(([service, methods]) => methods.map((m) => `${service}/${m}`));
