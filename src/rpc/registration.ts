import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  type AuthService,
  BeginRegistrationResponseSchema,
  FinishRegistrationResponseSchema,
} from "../gen/authn/v1/auth_service_pb.js";
import { credentialMessage } from "./credential-message.js";
import type { CeremonyHandlersDeps } from "./deps.js";
import { attachmentOf, attestationOf, callContextOf, displayText, hintsOf, residentKeyOf, sized, toTimestamp, userNamesOf, userVerificationOf } from "./fields.js";
import { profileOf } from "../tenants/ceremony-profiles.js";
import { MAX_LABEL_BYTES, MAX_USER_ID_BYTES } from "../field-limits.js";
import { registrationExtensions } from "../webauthn/extensions.js";

type RegistrationHandlers = Pick<ServiceImpl<typeof AuthService>, "beginRegistration" | "finishRegistration">;

/** BeginRegistration / FinishRegistration: proto ↔ domain mapping only. */
export function registrationHandlers({ tenants, registration, providerNames }: CeremonyHandlersDeps): RegistrationHandlers {
  return {
    async beginRegistration(req, ctx) {
      const tenant = tenants.resolve(req.tenant);
      const prefs = req.preferences;
      const result = await registration.begin(tenant, {
        userId: sized("user_id", req.userId, 1, MAX_USER_ID_BYTES),
        ...userNamesOf(req),
        profile: profileOf(tenant, req.profile),
        attachment: attachmentOf(prefs?.authenticatorAttachment ?? 0),
        residentKey: residentKeyOf(prefs?.residentKey ?? 0),
        userVerification: userVerificationOf(prefs?.userVerification ?? 0, "preferences.user_verification"),
        hints: hintsOf(prefs?.hints ?? [], "preferences.hints"),
        attestation: attestationOf(prefs?.attestation ?? 0),
        conditional: req.conditional,
        extensions: registrationExtensions(req.extensionsJson),
      }, callContextOf(ctx, req.client));
      return create(BeginRegistrationResponseSchema, {
        optionsJson: JSON.stringify(result.options),
        expiresAt: toTimestamp(result.expiresAt),
      });
    },

    async finishRegistration(req, ctx) {
      const tenant = tenants.resolve(req.tenant);
      const name = displayText("credential_name", req.credentialName, 0, MAX_LABEL_BYTES);
      const { credential, signal } = await registration.finish(tenant, sized("credential_json", req.credentialJson, 1, Infinity), name, callContextOf(ctx, req.client));
      return create(FinishRegistrationResponseSchema, { credential: credentialMessage(credential, providerNames), signal });
    },
  };
}
