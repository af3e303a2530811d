import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { type AuthService, GetPasskeyEndpointsResponseSchema, GetRelatedOriginsResponseSchema } from "../gen/authn/v1/auth_service_pb.js";
import type { Tenants } from "../tenants/tenants.js";
import { passkeyEndpointsDocument, relatedOriginsDocument } from "../tenants/well-known.js";

type WellKnownHandlers = Pick<ServiceImpl<typeof AuthService>, "getRelatedOrigins" | "getPasskeyEndpoints">;

/**
 * GetRelatedOrigins / GetPasskeyEndpoints: the documents the HTTP routes serve, for a front that
 * serves them itself. A tenant that configures none gets an empty document_json (where the route
 * answers 404); an unknown tenant is TENANT_UNKNOWN like every RPC.
 */
export function wellKnownHandlers({ tenants }: { readonly tenants: Tenants }): WellKnownHandlers {
  return {
    getRelatedOrigins(req) {
      const tenant = tenants.resolve(req.tenant);
      return create(GetRelatedOriginsResponseSchema, {
        rpId: tenant.rpId,
        origins: [...(tenant.relatedOrigins ?? [])],
        documentJson: relatedOriginsDocument(tenant) ?? "",
      });
    },

    getPasskeyEndpoints(req) {
      const tenant = tenants.resolve(req.tenant);
      return create(GetPasskeyEndpointsResponseSchema, {
        rpId: tenant.rpId,
        enroll: tenant.passkeyEndpoints?.enroll ?? "",
        manage: tenant.passkeyEndpoints?.manage ?? "",
        documentJson: passkeyEndpointsDocument(tenant) ?? "",
      });
    },
  };
}
