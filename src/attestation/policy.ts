import { z } from "zod";

/**
 * A tenant's attestation trust policy, as the tenants config file declares it.
 * - `none` (the default) accepts any authenticator and asks browsers for no attestation.
 * - `direct` / `enterprise` verify the attestation chain against FIDO MDS3 trust anchors and
 *   refuse authenticators whose MDS status is revoked or compromised.
 * AAGUIDs are lower-case UUIDs with dashes.
 */
const aaguid = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, "must be a lower-case AAGUID such as ee882879-721c-4913-9775-3dfcce97072a");

export const attestationPolicySchema = z
  .object({
    conveyance: z.enum(["none", "direct", "enterprise"]).default("none"),
    /** Empty: any AAGUID not denied. */
    aaguidAllow: z.array(aaguid).default([]),
    aaguidDeny: z.array(aaguid).default([]),
    /** False refuses backup-eligible (synced) passkeys, for high-assurance tenants. */
    allowBackupEligible: z.boolean().default(true),
  })
  .strict();

export type AttestationPolicy = Readonly<z.infer<typeof attestationPolicySchema>>;

export const DEFAULT_ATTESTATION_POLICY: AttestationPolicy = Object.freeze(attestationPolicySchema.parse({}));
