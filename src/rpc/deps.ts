import type { AuditTrail } from "../audit/audit-trail.js";
import type { ProviderNames } from "../attestation/provider-names.js";
import type { AuthenticationCeremony } from "../ceremonies/authentication.js";
import type { CredentialLifecycle } from "../ceremonies/credential-lifecycle.js";
import type { RegistrationCeremony } from "../ceremonies/registration.js";
import type { Sessions } from "../ceremonies/sessions.js";
import type { ExtAuthzClientIp } from "../step-up/ext-authz-client-ip.js";
import type { OperationVerifier } from "../step-up/verify-operation.js";
import type { Tenants } from "../tenants/tenants.js";
import type { KeyRing } from "../tokens/key-ring.js";

/** What the RPC handlers need, in one place: app.ts builds them, routes.ts hands them out. */

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

export interface StepUpHandlersDeps {
  readonly tenants: Tenants;
  readonly verifier: OperationVerifier;
  readonly keys: KeyRing;
  readonly clock: () => number;
  /** The request header ext_authz reads step-up evidence (a grant or an assertion) from. */
  readonly evidenceHeader: string;
  /** Where ext_authz reads the end user's address from. */
  readonly extAuthzClientIp: ExtAuthzClientIp;
}
