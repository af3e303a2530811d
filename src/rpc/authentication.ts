import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  type AuthService,
  BeginAuthenticationResponseSchema,
  FinishAuthenticationResponseSchema,
} from "../gen/authn/v1/auth_service_pb.js";
import { callContextOf, hintsOf, sized, toTimestamp, userVerificationOf } from "./fields.js";
import { profileOf } from "../tenants/ceremony-profiles.js";
import { boundOperationDigest } from "./step-up.js";
import type { CeremonyHandlersDeps } from "./deps.js";
import { MAX_USER_ID_BYTES } from "../field-limits.js";
import { authenticationExtensions } from "../webauthn/extensions.js";

type AuthenticationHandlers = Pick<ServiceImpl<typeof AuthService>, "beginAuthentication" | "finishAuthentication">;

/** BeginAuthentication / FinishAuthentication: proto ↔ domain mapping only. */
export function authenticationHandlers({ tenants, authentication }: CeremonyHandlersDeps): AuthenticationHandlers {
  return {
    async beginAuthentication(req, ctx) {
      const tenant = tenants.resolve(req.tenant);
      const userId = sized("user_id", req.userId, 0, MAX_USER_ID_BYTES) || undefined;
      const result = await authentication.begin(
        tenant,
        userId,
        { profile: profileOf(tenant, req.profile), userVerification: userVerificationOf(req.userVerification), hints: hintsOf(req.hints) },
        callContextOf(ctx, req.client),
        boundOperationDigest(req.operation),
        authenticationExtensions(req.extensionsJson),
      );
      return create(BeginAuthenticationResponseSchema, {
        optionsJson: JSON.stringify(result.options),
        expiresAt: toTimestamp(result.expiresAt),
      });
    },

    async finishAuthentication(req, ctx) {
      const tenant = tenants.resolve(req.tenant);
      const call = callContextOf(ctx, req.client);
      const signIn = await authentication.finish(tenant, sized("credential_json", req.credentialJson, 1, Infinity), call);
      return create(FinishAuthenticationResponseSchema, {
        userId: signIn.userId,
        credentialId: signIn.credentialId,
        userVerified: signIn.userVerified,
        sessionToken: signIn.sessionToken,
        authTime: toTimestamp(signIn.authTime),
        expiresAt: toTimestamp(signIn.expiresAt),
      });
    },
  };
}
