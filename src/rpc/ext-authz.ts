import { createHash } from "node:crypto";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, type ServiceImpl } from "@connectrpc/connect";
import { AuthError, invalidField } from "../errors.js";
import { HeaderValueOption_HeaderAppendAction, type HeaderValueOptionSchema } from "../gen/envoy/config/core/v3/base_pb.js";
import type { AttributeContext, AttributeContext_HttpRequest } from "../gen/envoy/service/auth/v3/attribute_context_pb.js";
import { type Authorization, type CheckResponse, CheckResponseSchema } from "../gen/envoy/service/auth/v3/external_auth_pb.js";
import { StatusCode } from "../gen/envoy/type/v3/http_status_pb.js";
import { extAuthzClientIp } from "../step-up/ext-authz-client-ip.js";
import type { Operation } from "../step-up/operation.js";
import type { Requirement } from "../step-up/requirement.js";
import type { Allowed, Denied, StepUpNeeded, Verdict } from "../step-up/verdict.js";
import type { Evidence } from "../step-up/verify-operation.js";
import { bearerChallenge, INSUFFICIENT_USER_AUTHENTICATION } from "../step-up/www-authenticate.js";
import { boundedCallContext, callContextOf, sized } from "./fields.js";
import type { StepUpHandlersDeps } from "./deps.js";
import { validOperation, validRequirement } from "./step-up.js";
import { MAX_TOKEN_BYTES } from "../field-limits.js";

/** Identity headers the upstream receives on OK; they overwrite any a client sent. */
export const IDENTITY_HEADERS = {
  subject: "x-dynauthn-subject",
  acr: "x-dynauthn-acr",
  amr: "x-dynauthn-amr",
  authTime: "x-dynauthn-auth-time",
  credentialId: "x-dynauthn-credential-id",
  grant: "x-dynauthn-step-up-grant",
} as const;

/**
 * envoy.service.auth.v3.Authorization/Check: Envoy's ext_authz filter asks before forwarding a
 * request. The bearer session token comes from `authorization`, step-up evidence (a grant, or an
 * assertion as JSON or base64url JSON) from the configured header, and the route's requirement
 * from context_extensions: `operation`, `max_age`, `acr_values`, `require_uv`, `require_device_bound`,
 * `single_use`. The operation's resource is the request path; its payload digest is SHA-256 of
 * the body when the filter sends it (with_request_body).
 */
export function extAuthzHandlers(deps: StepUpHandlersDeps): Pick<ServiceImpl<typeof Authorization>, "check"> {
  const { tenants, verifier, evidenceHeader, extAuthzClientIp: clientIpFrom } = deps;
  return {
    async check(req, ctx) {
      const ext = knownExtensions(req.attributes?.contextExtensions ?? {});
      const http = req.attributes?.request?.http;
      const headers = headersOf(http);
      const token = bearerToken(headers.get("authorization"));
      if (token === undefined) return denied(StatusCode.Unauthorized, Code.Unauthenticated, bearerChallenge(), { error: "unauthorized" });
      const evidence = evidenceOf(headers.get(evidenceHeader), evidenceHeader);
      try {
        const verdict = await verifier.verify(tenants.resolve(ext.tenant ?? ""), {
          sessionToken: token,
          operation: operationOf(ext, http),
          requirement: requirementOf(ext),
          evidence,
          call: boundedCallContext(callContextOf(ctx).caller, extAuthzClientIp(clientIpFrom, sourceAddressOf(req.attributes), headers), headers.get("user-agent")),
        });
        return checkResponse(verdict, evidence, evidenceHeader);
      } catch (err) {
        if (err instanceof AuthError && err.reason === "RATE_LIMITED") return tooManyRequests(err);
        throw err;
      }
    },
  };
}

/** The route settings Check reads from context_extensions (names are case-sensitive). */
const CONTEXT_EXTENSIONS = new Set(["tenant", "operation", "max_age", "acr_values", "require_uv", "require_device_bound", "single_use"]);

/**
 * context_extensions come from the route configuration, where a misspelt key (`require_UV`)
 * would silently drop a requirement: any other key is refused (INVALID_ARGUMENT; Envoy denies).
 */
function knownExtensions(ext: Record<string, string>): Record<string, string> {
  const unknown = Object.keys(ext).find((key) => !CONTEXT_EXTENSIONS.has(key));
  if (unknown !== undefined) throw invalidField(`context_extensions.${unknown.slice(0, 64)}`, `not a setting (one of ${[...CONTEXT_EXTENSIONS].join(", ")})`);
  return ext;
}

/**
 * Envoy sends `headers` (a map, lower-cased names, a repeated header's values joined with ','),
 * or `header_map` (one entry per header line) when encode_raw_headers is on. Both are read the
 * same way, names in any case: a repeated header is one value joined with ',' in order, so a
 * second `authorization` line makes no bearer token rather than one of the two picked.
 */
/** The remote address of Envoy's downstream connection (attributes.source), "" when not a socket address. */
function sourceAddressOf(attributes: AttributeContext | undefined): string {
  const address = attributes?.source?.address?.address;
  return address?.case === "socketAddress" ? address.value.address : "";
}

function headersOf(http: AttributeContext_HttpRequest | undefined): Map<string, string> {
  const raw = http?.headerMap?.headers;
  const lines: [string, string][] =
    raw && raw.length > 0 ? raw.map((h) => [h.key, h.value || Buffer.from(h.rawValue).toString("utf8")]) : Object.entries(http?.headers ?? {});
  const headers = new Map<string, string>();
  for (const [key, value] of lines) {
    const name = key.toLowerCase();
    const earlier = headers.get(name);
    headers.set(name, earlier === undefined ? value : `${earlier},${value}`);
  }
  return headers;
}

function bearerToken(authorization: string | undefined): string | undefined {
  const m = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(authorization ?? "");
  return m && m[1]!.length <= MAX_TOKEN_BYTES ? m[1] : undefined;
}

/** A grant is a compact JWS (three dot-separated parts); anything else is an assertion. */
function evidenceOf(value: string | undefined, evidenceHeader: string): Evidence {
  if (!value) return { kind: "none" };
  if (/^[\w-]+\.[\w-]+\.[\w-]+$/.test(value)) return { kind: "grant", token: sized(evidenceHeader, value, 1, MAX_TOKEN_BYTES) };
  const credentialJson = value.startsWith("{") ? value : Buffer.from(value, "base64url").toString("utf8");
  return { kind: "assertion", credentialJson };
}

function operationOf(ext: Record<string, string>, http: AttributeContext_HttpRequest | undefined): Operation {
  const body = http?.rawBody.length ? http.rawBody : http?.body ? Buffer.from(http.body, "utf8") : undefined;
  return validOperation(
    {
      name: ext.operation || `http.${(http?.method || "request").toLowerCase()}`,
      resource: http?.path ?? "",
      payloadDigest: body ? createHash("sha256").update(body).digest() : new Uint8Array(),
      displayText: "",
    },
    "context_extensions.",
  );
}

function flag(ext: Record<string, string>, key: string): boolean {
  const value = ext[key];
  if (value === undefined || value === "" || value === "false") return false;
  if (value === "true") return true;
  throw invalidField(`context_extensions.${key}`, "true or false");
}

function requirementOf(ext: Record<string, string>): Requirement {
  const maxAge = ext.max_age;
  if (maxAge !== undefined && !/^\d{1,9}$/.test(maxAge)) throw invalidField("context_extensions.max_age", "whole seconds");
  return validRequirement(
    {
      maxAgeSeconds: maxAge === undefined ? undefined : Number(maxAge),
      requireUserVerification: flag(ext, "require_uv"),
      acrValues: (ext.acr_values ?? "").split(" ").filter(Boolean),
      requireDeviceBound: flag(ext, "require_device_bound"),
      singleUse: flag(ext, "single_use"),
    },
    "context_extensions.",
  );
}

function checkResponse(verdict: Verdict, evidence: Evidence, evidenceHeader: string): CheckResponse {
  switch (verdict.decision) {
    case "allow":
      return ok(verdict, evidence, evidenceHeader);
    case "step_up":
      return stepUp(verdict, evidenceHeader);
    case "deny":
      return deny(verdict);
  }
}

function header(key: string, value: string): MessageInitShape<typeof HeaderValueOptionSchema> {
  return { header: { key, value }, appendAction: HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD };
}

/** OK: identity headers for the upstream, credentials removed; a grant from an assertion goes back to the client. */
function ok(v: Allowed, evidence: Evidence, evidenceHeader: string): CheckResponse {
  const reusable = evidence.kind === "assertion" && !v.grant.once;
  return create(CheckResponseSchema, {
    status: { code: 0 }, // google.rpc.Code.OK
    httpResponse: {
      case: "okResponse",
      value: {
        headers: [
          header(IDENTITY_HEADERS.subject, v.subject),
          header(IDENTITY_HEADERS.acr, v.acr),
          header(IDENTITY_HEADERS.amr, v.amr.join(" ")),
          header(IDENTITY_HEADERS.authTime, String(Math.floor(v.authTime / 1000))),
          header(IDENTITY_HEADERS.credentialId, v.credentialId),
          header(IDENTITY_HEADERS.grant, v.grant.token),
        ],
        headersToRemove: ["authorization", evidenceHeader],
        responseHeadersToAdd: reusable ? [header(IDENTITY_HEADERS.grant, v.grant.token)] : [],
      },
    },
  });
}

/** 401 with the RFC 9470 challenge and, in the body, the WebAuthn options bound to this request. */
function stepUp(v: StepUpNeeded, evidenceHeader: string): CheckResponse {
  const { acrValues, maxAgeSeconds } = v.requirement;
  return denied(StatusCode.Unauthorized, Code.Unauthenticated, v.wwwAuthenticate, {
    error: INSUFFICIENT_USER_AUTHENTICATION,
    ...(acrValues.length ? { acr_values: acrValues.join(" ") } : {}),
    ...(maxAgeSeconds === undefined ? {} : { max_age: maxAgeSeconds }),
    options: v.options,
    expires_at: new Date(v.expiresAt).toISOString(),
    evidence_header: evidenceHeader,
  });
}

/** A refused session token is 401 invalid_token (sign in again); any other denial is 403. */
function deny(v: Denied): CheckResponse {
  const body = { error: v.ofSession ? "invalid_token" : "access_denied", reason: v.reason };
  return v.ofSession
    ? denied(StatusCode.Unauthorized, Code.Unauthenticated, bearerChallenge("invalid_token"), body)
    : denied(StatusCode.Forbidden, Code.PermissionDenied, undefined, body);
}

/** 429 with Retry-After (whole seconds): a Begin limit refused the step-up challenge. */
function tooManyRequests(err: AuthError): CheckResponse {
  const retryAfter = String(Math.ceil((err.retryDelayMs ?? 1000) / 1000));
  return denied(StatusCode.TooManyRequests, Code.ResourceExhausted, undefined, { error: "rate_limited", limit: err.metadata.limit }, [
    header("retry-after", retryAfter),
  ]);
}

function denied(
  status: StatusCode,
  code: Code,
  wwwAuthenticate: string | undefined,
  body: object,
  extraHeaders: MessageInitShape<typeof HeaderValueOptionSchema>[] = [],
): CheckResponse {
  const headers = [header("content-type", "application/json"), header("cache-control", "no-store"), ...extraHeaders];
  if (wwwAuthenticate) headers.push(header("www-authenticate", wwwAuthenticate));
  return create(CheckResponseSchema, {
    status: { code },
    httpResponse: { case: "deniedResponse", value: { status: { code: status }, headers, body: JSON.stringify(body) } },
  });
}
