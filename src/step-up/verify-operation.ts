import { mergeFacts, type CallContext } from "../audit/audit-event.js";
import type { AssertionCore } from "../ceremonies/assertion-core.js";
import type { AuthenticationCeremony } from "../ceremonies/authentication.js";
import type { CeremonyDeps } from "../ceremonies/deps.js";
import type { TenantConfig } from "../tenants/tenant-config.js";
import type { CeremonyProfile } from "../webauthn/ceremony-profile.js";
import { TokenRejected } from "../tokens/jwt.js";
import { issueStepUpGrant, verifyStepUpGrant, type StepUpGrant } from "../tokens/step-up-grant.js";
import type { Assurance } from "../tokens/verified-claims.js";
import { verifySessionToken } from "../tokens/session-token.js";
import type { VerifiedTokens } from "../tokens/verified-tokens.js";
import { boundAssertion } from "./bound-assertion.js";
import { SessionGrants } from "./session-grants.js";
import { operationDigest, type Operation } from "./operation.js";
import { shortfall, type AuthenticationFacts, type Requirement, type Shortfall } from "./requirement.js";
import { asDenial, Denial, refusalFacts, type Allowed, type DenyReason, type StepUpNeeded, type Verdict } from "./verdict.js";
import { stepUpChallenge } from "./www-authenticate.js";

/** Evidence beyond the session token: an assertion over a bound challenge, or an earlier grant. */
export type Evidence =
  | { readonly kind: "none" }
  | { readonly kind: "assertion"; readonly credentialJson: string }
  | { readonly kind: "grant"; readonly token: string };

export interface VerifyOperationInput {
  readonly sessionToken: string;
  readonly operation: Operation;
  readonly requirement: Requirement;
  readonly evidence: Evidence;
  /** The tenant's ceremony profile for the challenge of a STEP_UP_REQUIRED answer, if one is named. */
  readonly profile?: CeremonyProfile | undefined;
  readonly call: CallContext;
}

export interface StepUpDeps extends CeremonyDeps {
  /** Lifetime of the step-up grants an ALLOW carries. */
  readonly grantTtlSeconds: number;
  /** Session revocation (RevokeSession), answered from a cache of bounded staleness. */
  readonly revocations: { isRevoked(tenant: string, sessionId: string): Promise<boolean> };
  /** Verifies session tokens and grants against `keys`, caching the signature verdicts. */
  readonly tokens: VerifiedTokens;
}

/** A fresh assertion that still misses the requirement cannot be stepped up again: it is denied. */
const DENIAL_OF_SHORTFALL: Record<Shortfall, DenyReason> = {
  max_age: "EXPIRED",
  user_verification: "UV_MISSING",
  device_bound: "DEVICE_BOUND_REQUIRED",
  acr: "ACR_NOT_SATISFIED",
};

/**
 * VerifyOperation (RFC 9470). The subject is always the verified session token's. DynamoDB:
 * - session token only, requirement met: none (the hot path), apart from the session revocation
 *   check's one read per session per SESSION_REVOCATION_STALENESS_SECONDS;
 * - requirement not met: none (the bound challenge is sealed) (+1 Query on a credential-list cache miss);
 * - assertion: 2 in AssertionCore (consume the bound challenge, the credential's conditional
 *   counter update) plus the audit event (+1 GetItem on a credential cache miss);
 * - grant: none, or 1 conditional PutItem (its used-once marker) when the requirement is single use,
 *   +1 GetItem when the grant was earned with another passkey than the session's.
 */
export class OperationVerifier {
  readonly #sessionGrants: SessionGrants;

  constructor(
    private readonly deps: StepUpDeps,
    /** Begins the bound challenges of STEP_UP_REQUIRED answers. */
    private readonly authentication: AuthenticationCeremony,
    /** Checks and records step-up assertions, as FinishAuthentication's are. */
    private readonly assertions: AssertionCore,
  ) {
    this.#sessionGrants = new SessionGrants(deps.grantTtlSeconds);
  }

  async verify(tenant: TenantConfig, input: VerifyOperationInput): Promise<Verdict> {
    const now = this.deps.clock();
    try {
      const session = await this.session(tenant, input.sessionToken, now);
      const digest = operationDigest(input.operation);
      switch (input.evidence.kind) {
        case "assertion":
          return await this.withAssertion(tenant, session, digest, input, input.evidence.credentialJson);
        case "grant":
          return await this.withGrant(tenant, session, digest, input, input.evidence.token, now);
        case "none":
          if (input.requirement.singleUse || shortfall(input.requirement, session, now)) {
            return await this.stepUp(tenant, session.userId, digest, input);
          }
          return await this.allow(tenant, session, session.jti, digest, { once: false, asserted: false }, now);
      }
    } catch (err) {
      if (err instanceof Denial) return err.verdict;
      throw err;
    }
  }

  private async session(tenant: TenantConfig, token: string, now: number): Promise<Assurance> {
    const session = await verifySessionToken(this.deps.tokens, token, now).catch(rejected("session token", true));
    if (session.tenant !== tenant.id) throw new Denial("TOKEN_INVALID", "the session token is another tenant's", true);
    if (await this.deps.revocations.isRevoked(tenant.id, session.jti)) {
      throw new Denial("SESSION_REVOKED", "the session has been revoked", true);
    }
    return session;
  }

  private async withGrant(
    tenant: TenantConfig,
    session: Assurance,
    digest: string,
    input: VerifyOperationInput,
    token: string,
    now: number,
  ): Promise<Verdict> {
    const grant = await verifyStepUpGrant(this.deps.tokens, token, now).catch(rejected("step-up grant"));
    if (grant.tenant !== tenant.id) throw new Denial("TOKEN_INVALID", "the step-up grant is another tenant's");
    if (grant.userId !== session.userId) throw new Denial("SUBJECT_MISMATCH", "the step-up grant is another user's");
    // Bound to its session: the session's revocation (checked above) ends the grant, and it
    // cannot move to another session, nor to a user re-created under the same id.
    if (grant.sessionId !== session.jti) throw new Denial("SUBJECT_MISMATCH", "the step-up grant was issued under another session");
    if (grant.operation !== digest) throw new Denial("OPERATION_MISMATCH", "the step-up grant is for another operation");
    await this.refuseRevokedStepUpCredential(tenant, session, grant);
    // A single-use grant was used by the call that issued it.
    if (grant.once) throw new Denial("REPLAYED", "the step-up grant was single use");
    if (shortfall(input.requirement, grant, now)) return this.stepUp(tenant, session.userId, digest, input);
    // Single use is never met by the session token alone, nor by a grant that only wraps it.
    if (input.requirement.singleUse && !grant.asserted) return this.stepUp(tenant, session.userId, digest, input);
    if (input.requirement.singleUse && !(await this.deps.store.challenges.markGrantUsed(tenant.id, grant.jti, grant.expiresAt))) {
      throw new Denial("REPLAYED", "the step-up grant was already used");
    }
    return allowed(grant, digest, { token, jti: grant.jti, expiresAt: grant.expiresAt, once: grant.once });
  }

  /**
   * A grant earned by an assertion with another passkey than the session's: revoking that passkey
   * did not revoke this session, so its record is read (consistently). A grant of the session's
   * own passkey needs no read: revoking the passkey revoked the session.
   */
  private async refuseRevokedStepUpCredential(tenant: TenantConfig, session: Assurance, grant: StepUpGrant): Promise<void> {
    if (grant.credentialId === session.credentialId) return;
    const credential = await this.deps.store.credentials.get(tenant.id, grant.credentialId);
    if (credential?.userId !== session.userId || credential.revokedAt !== undefined) {
      throw new Denial("CREDENTIAL_REVOKED", "the passkey the step-up grant was earned with has been revoked");
    }
  }

  private async withAssertion(
    tenant: TenantConfig,
    session: Assurance,
    digest: string,
    input: VerifyOperationInput,
    credentialJson: string,
  ): Promise<Verdict> {
    const { requirement: req, operation, call } = input;
    const facts = { userId: session.userId, details: { operation: operation.name, resource: operation.resource, operation_digest: digest } };
    const assertion = boundAssertion(credentialJson, { operationDigest: digest, userId: session.userId }, req.requireUserVerification, facts);
    return this.assertions
      .accept(tenant, assertion, call, {
        accepted: async ({ credential, authTime, assurance, facts: known }) => {
          const asserted = { authTime, ...assurance };
          const missing = shortfall(req, asserted, authTime);
          if (missing) throw new Denial(DENIAL_OF_SHORTFALL[missing], `the assertion does not meet the requirement (${missing})`);
          const verdict = await this.allow(
            tenant,
            { ...asserted, userId: session.userId, credentialId: credential.credentialId },
            session.jti,
            digest,
            { once: req.singleUse, asserted: true },
            authTime,
          );
          await this.deps.auditor.success("step_up", tenant, call, mergeFacts(known, { details: { acr: assurance.acr, amr: assurance.amr.join(" "), grant_id: verdict.grant.jti } }));
          return verdict;
        },
        refused: (known, err) => this.deps.auditor.failure("step_up", tenant, call, mergeFacts(known, refusalFacts(err)), err),
      })
      .catch((err: unknown) => {
        throw asDenial(err);
      });
  }

  private async stepUp(tenant: TenantConfig, userId: string, digest: string, input: VerifyOperationInput): Promise<StepUpNeeded> {
    const req = input.requirement;
    const begun = await this.authentication.begin(
      tenant,
      userId,
      // The requirement's UV overrides the profile's; without one the profile (or tenant) decides.
      { profile: input.profile, userVerification: req.requireUserVerification ? "required" : undefined },
      input.call,
      digest,
    );
    return { decision: "step_up", requirement: req, wwwAuthenticate: stepUpChallenge(req), options: begun.options, expiresAt: begun.expiresAt };
  }

  /** ALLOW with a fresh grant for `digest` under session `sessionId`, signed by the key that signs now. */
  private async allow(
    tenant: TenantConfig,
    facts: AuthenticationFacts & { readonly userId: string; readonly credentialId: string },
    sessionId: string,
    digest: string,
    { once, asserted }: { readonly once: boolean; readonly asserted: boolean },
    now: number,
  ): Promise<Allowed> {
    const key = this.deps.keys.signingKey(now);
    const issue = () =>
      issueStepUpGrant(
        key,
        {
          tenant: tenant.id,
          userId: facts.userId,
          credentialId: facts.credentialId,
          authTime: facts.authTime,
          acr: facts.acr,
          amr: facts.amr,
          operation: digest,
          once,
          asserted,
          sessionId,
        },
        now,
        this.deps.grantTtlSeconds,
      );
    const issued = asserted || once ? await issue() : await this.#sessionGrants.reuse({ tenant: tenant.id, sessionId, operation: digest, kid: key.kid }, now, issue);
    const { jti, expiresAt } = issued.grant;
    return allowed(issued.grant, digest, { token: issued.token, jti, expiresAt, once });
  }
}

function allowed(
  facts: AuthenticationFacts & { readonly userId: string; readonly credentialId: string },
  digest: string,
  grant: Allowed["grant"],
): Allowed {
  return {
    decision: "allow",
    subject: facts.userId,
    acr: facts.acr,
    amr: facts.amr,
    authTime: facts.authTime,
    credentialId: facts.credentialId,
    operationDigest: digest,
    grant,
  };
}

/** Maps a refused token to a DENY: expired, or not a token this ring vouches for. */
function rejected(what: string, ofSession = false): (err: unknown) => never {
  return (err) => {
    if (!(err instanceof TokenRejected)) throw err;
    throw new Denial(err.failure === "EXPIRED" ? "EXPIRED" : "TOKEN_INVALID", `${what}: ${err.message}`, ofSession);
  };
}
