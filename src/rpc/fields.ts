import { timestampFromMs, type Timestamp } from "@bufbuild/protobuf/wkt";
import { invalidField } from "../errors.js";
import {
  AttestationConveyance,
  AuthenticatorAttachment,
  Hint,
  ResidentKeyRequirement,
  UserVerificationRequirement,
} from "../gen/authn/v1/auth_service_pb.js";
import type { UserVerification } from "../webauthn/ceremony.js";
import type { Hint as HintName } from "../webauthn/ceremony-profile.js";
import type { HandlerContext } from "@connectrpc/connect";
import type { CallContext } from "../audit/audit-event.js";
import { CALLER } from "../callers/caller-context.js";
import { MAX_CLIENT_IP_BYTES, MAX_TEXT_BYTES, MAX_USER_AGENT_BYTES, replaceUndisplayable, undisplayableCharacter } from "../field-limits.js";
import type { UserNames } from "../webauthn/ceremony.js";

/** Checks a string field's UTF-8 size; `min` 0 makes it optional. */
export function sized(field: string, value: string, min: number, max: number): string {
  const bytes = Buffer.byteLength(value, "utf8");
  if (bytes < min) throw invalidField(field, min === 1 ? "required" : `at least ${min} bytes`);
  if (bytes > max) throw invalidField(field, `at most ${max} bytes`);
  return value;
}

/**
 * A free-text field that is stored and shown to people (a name, a label, a reason): sized, and
 * refused when it holds a character that hides or reorders what is shown (field-limits.ts).
 */
export function displayText(field: string, value: string, min: number, max: number): string {
  sized(field, value, min, max);
  const found = undisplayableCharacter(value);
  if (found) throw invalidField(field, `must not contain control, format (bidi) or separator characters (${found})`);
  return value;
}

/** BeginRegistration's and UpdateUser's names: user_name required, display_name defaulting to it. */
export function userNamesOf(req: { userName: string; displayName: string }): UserNames {
  const userName = displayText("user_name", req.userName, 1, MAX_TEXT_BYTES);
  return { userName, displayName: displayText("display_name", req.displayName, 0, MAX_TEXT_BYTES) || userName };
}

export const toTimestamp = timestampFromMs;

/**
 * A request's Timestamp as epoch ms within [minMs, maxMs], rounded up to the next whole
 * millisecond (times are stored in ms, so "at or after" and "before" keep their meaning).
 * Refuses what google.protobuf.Timestamp does not allow (nanos outside 0..999,999,999).
 */
export function timestampWithin(field: string, value: Timestamp, minMs: number, maxMs: number): number {
  const range = `between ${new Date(minMs).toISOString()} and ${new Date(maxMs).toISOString()}`;
  if (!Number.isInteger(value.nanos) || value.nanos < 0 || value.nanos > 999_999_999) throw invalidField(field, "nanos must be 0..999999999");
  const ms = Number(value.seconds) * 1000 + Math.ceil(value.nanos / 1_000_000);
  if (!(ms >= minMs && ms <= maxMs)) throw invalidField(field, `must be ${range}`);
  return ms;
}

/** An optional time (epoch ms): unset stays unset. */
export function optionalTimestamp(ms: number | undefined): ReturnType<typeof timestampFromMs> | undefined {
  return ms === undefined ? undefined : timestampFromMs(ms);
}

/**
 * The audit context of a call: the calling service's identity (mTLS or mesh, set before the
 * handler runs; "" when not identified) and the end user's client as the caller reports it. The
 * user agent is a header the caller passes on, which the end user writes (a Node gateway reads
 * its obs-text bytes as U+0080–U+00FF, C1 controls and the soft hyphen among them): its
 * undisplayable characters become U+FFFD rather than fail the sign-in; an address holding one is
 * refused.
 */
export function callContextOf(ctx: Pick<HandlerContext, "values">, client?: { ip: string; userAgent: string }): CallContext {
  return {
    caller: ctx.values.get(CALLER),
    clientIp: displayText("client.ip", client?.ip ?? "", 0, MAX_CLIENT_IP_BYTES),
    clientUserAgent: sized("client.user_agent", replaceUndisplayable(client?.userAgent ?? ""), 0, MAX_USER_AGENT_BYTES),
  };
}

/**
 * A call context from values the end user's client controls (Envoy's request headers), cut to
 * what callContextOf enforces instead of refusing: an odd User-Agent must not fail a request, so
 * its undisplayable characters become U+FFFD. An address too long to be one, or holding such a
 * character, is dropped.
 */
export function boundedCallContext(caller: string, clientIp: string | undefined, userAgent: string | undefined): CallContext {
  const ip = clientIp ?? "";
  return {
    caller,
    clientIp: Buffer.byteLength(ip, "utf8") <= MAX_CLIENT_IP_BYTES && !undisplayableCharacter(ip) ? ip : "",
    clientUserAgent: truncateUtf8(replaceUndisplayable(userAgent ?? ""), MAX_USER_AGENT_BYTES),
  };
}

/** The longest prefix of `value` that is at most `maxBytes` of UTF-8, never splitting a character. */
export function truncateUtf8(value: string, maxBytes: number): string {
  if (Buffer.byteLength(value, "utf8") <= maxBytes) return value;
  const { read } = new TextEncoder().encodeInto(value, new Uint8Array(maxBytes));
  return value.slice(0, read);
}

/** Unspecified: whatever the profile or the tenant says (preferred when neither does). */
export function userVerificationOf(value: UserVerificationRequirement, field = "user_verification"): UserVerification | undefined {
  switch (value) {
    case UserVerificationRequirement.REQUIRED:
      return "required";
    case UserVerificationRequirement.DISCOURAGED:
      return "discouraged";
    case UserVerificationRequirement.PREFERRED:
      return "preferred";
    case UserVerificationRequirement.UNSPECIFIED:
      return undefined;
    default:
      throw invalidField(field, "unknown value");
  }
}

const HINT_NAMES: ReadonlyMap<Hint, HintName> = new Map([
  [Hint.SECURITY_KEY, "security-key"],
  [Hint.CLIENT_DEVICE, "client-device"],
  [Hint.HYBRID, "hybrid"],
]);

/** Level 3 hints in the order given; unspecified, unknown or repeated ones are refused. */
export function hintsOf(values: readonly Hint[], field = "hints"): HintName[] {
  const names: HintName[] = [];
  for (const value of values) {
    const name = HINT_NAMES.get(value);
    if (!name) throw invalidField(field, "each must be SECURITY_KEY, CLIENT_DEVICE or HYBRID");
    if (names.includes(name)) throw invalidField(field, "must not repeat a hint");
    names.push(name);
  }
  return names;
}

export function attachmentOf(value: AuthenticatorAttachment): "platform" | "cross-platform" | undefined {
  switch (value) {
    case AuthenticatorAttachment.PLATFORM:
      return "platform";
    case AuthenticatorAttachment.CROSS_PLATFORM:
      return "cross-platform";
    case AuthenticatorAttachment.UNSPECIFIED:
      return undefined;
    default:
      throw invalidField("preferences.authenticator_attachment", "unknown value");
  }
}

/** Unspecified: whatever the profile says (required when it does not). */
export function residentKeyOf(value: ResidentKeyRequirement): "discouraged" | "preferred" | "required" | undefined {
  switch (value) {
    case ResidentKeyRequirement.DISCOURAGED:
      return "discouraged";
    case ResidentKeyRequirement.PREFERRED:
      return "preferred";
    case ResidentKeyRequirement.REQUIRED:
      return "required";
    case ResidentKeyRequirement.UNSPECIFIED:
      return undefined;
    default:
      throw invalidField("preferences.resident_key", "unknown value");
  }
}

export function attestationOf(value: AttestationConveyance): "none" | "indirect" | "direct" | "enterprise" {
  switch (value) {
    case AttestationConveyance.INDIRECT:
      return "indirect";
    case AttestationConveyance.DIRECT:
      return "direct";
    case AttestationConveyance.ENTERPRISE:
      return "enterprise";
    case AttestationConveyance.NONE:
    case AttestationConveyance.UNSPECIFIED:
      return "none";
    default:
      throw invalidField("preferences.attestation", "unknown value");
  }
}
