import { create } from "@bufbuild/protobuf";
import { type Credential, CredentialSchema } from "../gen/authn/v1/auth_service_pb.js";
import type { StoredCredential } from "../webauthn/ceremony.js";
import type { ProviderNames } from "../attestation/provider-names.js";
import { optionalTimestamp, toTimestamp } from "./fields.js";

export function credentialMessage(c: StoredCredential, providerNames: ProviderNames): Credential {
  const icons = providerNames.iconsOf(c.aaguid);
  return create(CredentialSchema, {
    credentialId: c.credentialId,
    userId: c.userId,
    name: c.name,
    aaguid: c.aaguid,
    attestationFormat: c.attestationFormat,
    userVerified: c.userVerified,
    backupEligible: c.backupEligible,
    backedUp: c.backedUp,
    transports: [...c.transports],
    createdAt: toTimestamp(c.createdAt),
    lastUsedAt: optionalTimestamp(c.lastUsedAt),
    revokedAt: optionalTimestamp(c.revokedAt),
    revocationReason: c.revocationReason ?? "",
    cloneSuspectedAt: optionalTimestamp(c.cloneSuspectedAt),
    providerName: providerNames.nameOf(c.aaguid),
    providerIconLight: icons.light,
    providerIconDark: icons.dark,
    discoverable: c.discoverable,
    prfEnabled: c.prfEnabled,
    largeBlobSupported: c.largeBlobSupported,
    createdConditionally: c.createdConditionally ?? false,
  });
}
