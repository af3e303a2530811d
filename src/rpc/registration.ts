import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { AuthenticationCeremony } from "../ceremonies/authentication.js";
import type { RegistrationCeremony } from "../ceremonies/registration.js";
import {
  type AuthService,
  BeginRegistrationResponseSchema,
  FinishRegistrationResponseSchema,
} from "../gen/authn/v1/auth_service_pb.js";
import type { CredentialLifecycle } from "../ceremonies/credential-lifecycle.js";
import type { Sessions } from "../ceremonies/sessions.js";
import type { AuditTrail } from "../audit/audit-trail.js";
import type { Tenants } from "../tenants.js";
import type { ProviderNames } from "../attestation/provider-names.js";
import { credentialMessage } from "./credential-message.js";
import { attachmentOf, attestationOf, callContextOf, residentKeyOf, sized, toTimestamp, userVerificationOf } from "./fields.js";

export interface CeremonyHandlersDeps {
  readonly tenants: Tenants;
  readonly registration: RegistrationCeremony;
  readonly authentication: AuthenticationCeremony;
  readonly lifecycle: CredentialLifecycle;
  readonly sessions: Sessions;
  /** Reads the audit trail a page at a time. */
  readonly auditTrail: AuditTrail;
  /** Names authenticators by AAGUID in Credential messages. */
  readonly providerNames: ProviderNames;
}

type RegistrationHandlers = Pick<ServiceImpl<typeof AuthService>, "beginRegistration" | "finishRegistration">;

/** BeginRegistration / FinishRegistration: proto ↔ domain mapping only. */
export function registrationHandlers({ tenants, registration, providerNames }: CeremonyHandlersDeps): RegistrationHandlers {
  return {
    async beginRegistration(req, ctx) {
      const tenant = tenants.resolve(req.tenant);
      const userName = sized("user_name", req.userName, 1, 256);
      const prefs = req.preferences;
      const result = await registration.begin(tenant, {
        userId: sized("user_id", req.userId, 1, 128),
        userName,
        displayName: sized("display_name", req.displayName, 0, 256) || userName,
        attachment: attachmentOf(prefs?.authenticatorAttachment ?? 0),
        residentKey: residentKeyOf(prefs?.residentKey ?? 0),
        userVerification: userVerificationOf(prefs?.userVerification ?? 0),
        attestation: attestationOf(prefs?.attestation ?? 0),
      }, callContextOf(ctx, req.client));
      return create(BeginRegistrationResponseSchema, {
        optionsJson: JSON.stringify(result.options),
        expiresAt: toTimestamp(result.expiresAt),
      });
    },

    async finishRegistration(req, ctx) {
      const tenant = tenants.resolve(req.tenant);
      const name = sized("credential_name", req.credentialName, 0, 128);
      const c = await registration.finish(tenant, sized("credential_json", req.credentialJson, 1, Infinity), name, callContextOf(ctx, req.client));
      return create(FinishRegistrationResponseSchema, { credential: credentialMessage(c, providerNames) });
    },
  };
}
