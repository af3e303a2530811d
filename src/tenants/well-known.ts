import { jsonDocumentHandler } from "../http/document.js";
import { requestHost } from "../http/request-host.js";
import type { TenantConfig } from "./tenant-config.js";
import type { Tenants } from "./tenants.js";

/**
 * The public documents a tenant's RP ID serves: related origins (WebAuthn Level 3 §5.11) and
 * passkey endpoints (W3C "A Well-Known URL for Relying Party Passkey Endpoints"). Each is the
 * exact body of the HTTP route and of its RPC's document_json; undefined when the tenant
 * configures none (the route answers 404, the RPC an empty document_json).
 */

export const RELATED_ORIGINS_PATH = "/.well-known/webauthn";
export const PASSKEY_ENDPOINTS_PATH = "/.well-known/passkey-endpoints";

/** How long browsers and the front may cache a document; a tenants-file reload shows after at most this. */
export const WELL_KNOWN_MAX_AGE_SECONDS = 300;

export function relatedOriginsDocument(tenant: TenantConfig): string | undefined {
  const origins = tenant.relatedOrigins ?? [];
  return origins.length > 0 ? JSON.stringify({ origins }) : undefined;
}

export function passkeyEndpointsDocument(tenant: TenantConfig): string | undefined {
  const endpoints = tenant.passkeyEndpoints;
  return endpoints ? JSON.stringify({ enroll: endpoints.enroll, manage: endpoints.manage }) : undefined;
}

/**
 * GET /.well-known/webauthn and /.well-known/passkey-endpoints on the service's port, for the
 * tenant whose RP ID is the request's host: a front that proxies `https://{rpId}/.well-known/...`
 * here with the Host preserved serves them. Read per request: a tenants-file reload shows at once.
 */
export function wellKnownRoutes(tenants: Tenants): Record<string, ReturnType<typeof jsonDocumentHandler>> {
  const serve = (document: (tenant: TenantConfig) => string | undefined) =>
    jsonDocumentHandler({
      contentType: "application/json",
      maxAgeSeconds: WELL_KNOWN_MAX_AGE_SECONDS,
      body: (req) => {
        const host = requestHost(req);
        if (host === undefined) return 400;
        const tenant = tenants.byRpId(host);
        return (tenant && document(tenant)) ?? 404;
      },
    });
  return { [RELATED_ORIGINS_PATH]: serve(relatedOriginsDocument), [PASSKEY_ENDPOINTS_PATH]: serve(passkeyEndpointsDocument) };
}
