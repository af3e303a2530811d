import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  type AuthService,
  ClearCloneWarningResponseSchema,
  DeleteUserResponseSchema,
  ListCredentialsResponseSchema,
  RenameCredentialResponseSchema,
  RevokeCredentialResponseSchema,
  UpdateUserResponseSchema,
} from "../gen/authn/v1/auth_service_pb.js";
import { credentialMessage } from "./credential-message.js";
import { callContextOf, displayText, sized, userNamesOf } from "./fields.js";
import type { CeremonyHandlersDeps } from "./deps.js";
import { MAX_CREDENTIAL_ID_CHARS, MAX_LABEL_BYTES, MAX_TEXT_BYTES, MAX_USER_ID_BYTES } from "../field-limits.js";

type CredentialHandlers = Pick<
  ServiceImpl<typeof AuthService>,
  "listCredentials" | "renameCredential" | "revokeCredential" | "clearCloneWarning" | "updateUser" | "deleteUser"
>;

export const userIdOf = (req: { userId: string }) => sized("user_id", req.userId, 1, MAX_USER_ID_BYTES);
export const credentialIdOf = (req: { credentialId: string }) => sized("credential_id", req.credentialId, 1, MAX_CREDENTIAL_ID_CHARS);

/** ListCredentials / RenameCredential / RevokeCredential / ClearCloneWarning / UpdateUser / DeleteUser: proto ↔ domain mapping only. */
export function credentialHandlers({ tenants, lifecycle, providerNames }: CeremonyHandlersDeps): CredentialHandlers {
  return {
    async listCredentials(req) {
      const { credentials, signal } = await lifecycle.list(tenants.resolve(req.tenant), userIdOf(req));
      return create(ListCredentialsResponseSchema, { credentials: credentials.map((c) => credentialMessage(c, providerNames)), signal });
    },

    async renameCredential(req, ctx) {
      const tenant = tenants.resolve(req.tenant);
      const name = displayText("name", req.name, 0, MAX_LABEL_BYTES);
      const c = await lifecycle.rename(tenant, userIdOf(req), credentialIdOf(req), name, callContextOf(ctx));
      return create(RenameCredentialResponseSchema, { credential: credentialMessage(c, providerNames) });
    },

    async revokeCredential(req, ctx) {
      const tenant = tenants.resolve(req.tenant);
      const reason = displayText("reason", req.reason, 0, MAX_TEXT_BYTES);
      const { credential, signal } = await lifecycle.revoke(tenant, userIdOf(req), credentialIdOf(req), reason, callContextOf(ctx));
      return create(RevokeCredentialResponseSchema, { credential: credentialMessage(credential, providerNames), signal });
    },

    async clearCloneWarning(req, ctx) {
      const tenant = tenants.resolve(req.tenant);
      const reason = displayText("reason", req.reason, 0, MAX_TEXT_BYTES);
      const c = await lifecycle.clearCloneWarning(tenant, userIdOf(req), credentialIdOf(req), reason, callContextOf(ctx));
      return create(ClearCloneWarningResponseSchema, { credential: credentialMessage(c, providerNames) });
    },

    async updateUser(req, ctx) {
      const names = userNamesOf(req);
      const signal = await lifecycle.updateUser(tenants.resolve(req.tenant), userIdOf(req), names, callContextOf(ctx));
      return create(UpdateUserResponseSchema, { userId: req.userId, ...names, signal });
    },

    async deleteUser(req, ctx) {
      const { deleted, signal } = await lifecycle.deleteUser(tenants.resolve(req.tenant), userIdOf(req), callContextOf(ctx));
      return create(DeleteUserResponseSchema, { deletedCredentials: deleted, signal });
    },
  };
}
