import { create } from "@bufbuild/protobuf";
import { durationFromMs, durationMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { invalidField } from "../errors.js";
import type { AuthService } from "../gen/authn/v1/auth_service_pb.js";
import {
  Decision,
  DenyReason,
  GetJwksResponseSchema,
  type Operation as OperationMessage,
  type StepUpRequirement,
  type VerifyOperationRequest,
  type VerifyOperationResponse,
  VerifyOperationResponseSchema,
} from "../gen/authn/v1/step_up_pb.js";
import { operationDigest, type Operation } from "../step-up/operation.js";
import type { Requirement } from "../step-up/requirement.js";
import type { Verdict } from "../step-up/verdict.js";
import type { Evidence } from "../step-up/verify-operation.js";
import { INSUFFICIENT_USER_AUTHENTICATION } from "../step-up/www-authenticate.js";
import { JWKS_MAX_AGE_SECONDS, jwksJson } from "../tokens/jwks.js";
import type { StepUpHandlersDeps } from "./deps.js";
import { callContextOf, displayText, sized, toTimestamp } from "./fields.js";
import { profileOf } from "../tenants/ceremony-profiles.js";
import {
  MAX_ACR_VALUE_BYTES,
  MAX_ACR_VALUES,
  MAX_LABEL_BYTES,
  MAX_PAYLOAD_DIGEST_BYTES,
  MAX_RESOURCE_BYTES,
  MAX_TEXT_BYTES,
  MAX_TOKEN_BYTES,
} from "../field-limits.js";

type StepUpHandlers = Pick<ServiceImpl<typeof AuthService>, "verifyOperation" | "getJwks">;

/** VerifyOperation / GetJwks: proto ↔ domain mapping only. */
export function stepUpHandlers({ tenants, verifier, keys, clock }: StepUpHandlersDeps): StepUpHandlers {
  return {
    async verifyOperation(req, ctx) {
      const tenant = tenants.resolve(req.tenant);
      const verdict = await verifier.verify(tenant, {
        sessionToken: sized("session_token", req.sessionToken, 1, MAX_TOKEN_BYTES),
        operation: operationOf(req.operation),
        requirement: requirementOf(req.requirement),
        evidence: evidenceOf(req.evidence),
        profile: profileOf(tenant, req.profile),
        call: callContextOf(ctx),
      });
      return verifyOperationResponse(verdict);
    },

    getJwks() {
      return create(GetJwksResponseSchema, {
        jwksJson: jwksJson(keys, clock()),
        maxAge: durationFromMs(JWKS_MAX_AGE_SECONDS * 1000),
      });
    },
  };
}

/** Validates the operation's field sizes (see authn.v1.Operation). */
export function validOperation(op: Operation, prefix = "operation."): Operation {
  displayText(`${prefix}name`, op.name, 1, MAX_LABEL_BYTES);
  sized(`${prefix}resource`, op.resource, 0, MAX_RESOURCE_BYTES);
  displayText(`${prefix}display_text`, op.displayText, 0, MAX_TEXT_BYTES);
  if (op.payloadDigest.length > MAX_PAYLOAD_DIGEST_BYTES) throw invalidField(`${prefix}payload_digest`, `at most ${MAX_PAYLOAD_DIGEST_BYTES} bytes`);
  return op;
}

function operationOf(msg: OperationMessage | undefined): Operation {
  if (!msg) throw invalidField("operation", "required");
  return validOperation({ name: msg.name, resource: msg.resource, payloadDigest: msg.payloadDigest, displayText: msg.displayText });
}

/** BeginAuthentication's optional operation, as the digest its challenge is bound to. */
export function boundOperationDigest(msg: OperationMessage | undefined): string | undefined {
  return msg ? operationDigest(operationOf(msg)) : undefined;
}

/** Validates the requirement's acr values and max age (see authn.v1.StepUpRequirement). */
export function validRequirement(req: Requirement, prefix = "requirement."): Requirement {
  if (req.maxAgeSeconds !== undefined && !(req.maxAgeSeconds >= 0 && Number.isSafeInteger(req.maxAgeSeconds))) {
    throw invalidField(`${prefix}max_age`, "whole seconds, at least 0");
  }
  if (req.acrValues.length > MAX_ACR_VALUES) throw invalidField(`${prefix}acr_values`, `at most ${MAX_ACR_VALUES}`);
  for (const acr of req.acrValues) sized(`${prefix}acr_values`, acr, 1, MAX_ACR_VALUE_BYTES);
  return req;
}

function requirementOf(msg: StepUpRequirement | undefined): Requirement {
  return validRequirement({
    maxAgeSeconds: msg?.maxAge ? Math.floor(durationMs(msg.maxAge) / 1000) : undefined,
    requireUserVerification: msg?.requireUserVerification ?? false,
    acrValues: msg?.acrValues ?? [],
    requireDeviceBound: msg?.requireDeviceBound ?? false,
    singleUse: msg?.singleUse ?? false,
  });
}

function evidenceOf(evidence: VerifyOperationRequest["evidence"]): Evidence {
  switch (evidence.case) {
    case "credentialJson":
      return { kind: "assertion", credentialJson: sized("credential_json", evidence.value, 1, Infinity) };
    case "stepUpGrant":
      return { kind: "grant", token: sized("step_up_grant", evidence.value, 1, MAX_TOKEN_BYTES) };
    default:
      return { kind: "none" };
  }
}

function verifyOperationResponse(verdict: Verdict): VerifyOperationResponse {
  switch (verdict.decision) {
    case "allow":
      return create(VerifyOperationResponseSchema, {
        decision: Decision.ALLOW,
        details: {
          case: "allowed",
          value: {
            subject: verdict.subject,
            acr: verdict.acr,
            amr: [...verdict.amr],
            authTime: toTimestamp(verdict.authTime),
            credentialId: verdict.credentialId,
            stepUpGrant: verdict.grant.token,
            grantId: verdict.grant.jti,
            grantExpiresAt: toTimestamp(verdict.grant.expiresAt),
            operationDigest: Buffer.from(verdict.operationDigest, "base64url"),
          },
        },
      });
    case "step_up": {
      const { maxAgeSeconds, acrValues } = verdict.requirement;
      return create(VerifyOperationResponseSchema, {
        decision: Decision.STEP_UP_REQUIRED,
        details: {
          case: "stepUpRequired",
          value: {
            error: INSUFFICIENT_USER_AUTHENTICATION,
            acrValues: [...acrValues],
            ...(maxAgeSeconds === undefined ? {} : { maxAge: durationFromMs(maxAgeSeconds * 1000) }),
            wwwAuthenticate: verdict.wwwAuthenticate,
            optionsJson: JSON.stringify(verdict.options),
            expiresAt: toTimestamp(verdict.expiresAt),
          },
        },
      });
    }
    case "deny":
      return create(VerifyOperationResponseSchema, {
        decision: Decision.DENY,
        details: { case: "denied", value: { reason: DenyReason[verdict.reason], message: verdict.message } },
      });
  }
}
