import { z } from "zod";
import { invalidField } from "../errors.js";
import { MAX_EXTENSIONS_JSON_BYTES, MAX_PRF_SALT_BYTES } from "../field-limits.js";
import { isCanonicalBase64url } from "./base64url.js";

/**
 * WebAuthn extensions: the inputs a caller may put into the browser's options
 * (AuthenticationExtensionsClientInputsJSON, validated strictly so that nothing the service did
 * not mean to send reaches the browser), and the few registration outputs the service records.
 * Outputs are the client's word: unsigned, so informational only, never a security decision.
 */

/** A PRF salt: canonical base64url of at most MAX_PRF_SALT_BYTES bytes (an empty salt is allowed by the spec). */
const prfSalt = z
  .string()
  .max(Math.ceil((MAX_PRF_SALT_BYTES * 4) / 3))
  .refine(isCanonicalBase64url, "must be canonical base64url")
  .refine((s) => Buffer.from(s, "base64url").length <= MAX_PRF_SALT_BYTES, `must decode to at most ${MAX_PRF_SALT_BYTES} bytes`);

const prfEval = z.strictObject({ first: prfSalt, second: prfSalt.optional() });

/** BeginRegistration: credProps, prf (support query, or salts to evaluate at once) and largeBlob support. */
const registrationInputs = z.strictObject({
  credProps: z.literal(true).optional(),
  prf: z.strictObject({ eval: prfEval.optional() }).optional(),
  largeBlob: z.strictObject({ support: z.enum(["required", "preferred"]) }).optional(),
});

/**
 * BeginAuthentication: prf salts and a largeBlob read. evalByCredential is refused: one salt pair
 * for whichever credential answers is what PRF callers need, and per-credential salts would put
 * credential ids the caller chose into the options. largeBlob writes are refused: the blob would
 * pass through the service, which must never see one.
 */
const authenticationInputs = z.strictObject({
  prf: z.strictObject({ eval: prfEval }).optional(),
  largeBlob: z.strictObject({ read: z.literal(true) }).optional(),
});

export type RegistrationExtensionInputs = z.infer<typeof registrationInputs>;
export type AuthenticationExtensionInputs = z.infer<typeof authenticationInputs>;

const FIELD = "extensions_json";

function parseInputs<T>(json: string, schema: z.ZodType<T>): T {
  if (json === "") return schema.parse({});
  if (Buffer.byteLength(json, "utf8") > MAX_EXTENSIONS_JSON_BYTES) throw invalidField(FIELD, `at most ${MAX_EXTENSIONS_JSON_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw invalidField(FIELD, "not valid JSON");
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalidField(FIELD, `${issue?.path.join(".") || "value"}: ${issue ? issueText(issue) : "invalid"}`);
  }
  return parsed.data;
}

/**
 * A fixed text per kind of problem: zod's own messages quote unknown keys, which the caller wrote
 * and which reach logs and the caller's error. Paths name only members the schemas know (a strict
 * object refuses at its own path), and the refinements' messages are this file's.
 */
function issueText(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "unrecognized_keys":
      return "unknown member";
    case "invalid_type":
      return `must be ${issue.expected}`;
    case "invalid_value":
      return "value not accepted";
    case "too_big":
      return "too long";
    case "custom":
      return issue.message;
    default:
      return "invalid";
  }
}

/** BeginRegistration's extensions_json ("" for none); credProps is always requested. */
export function registrationExtensions(json: string): RegistrationExtensionInputs {
  return { ...parseInputs(json, registrationInputs), credProps: true };
}

/** BeginAuthentication's extensions_json ("" for none). */
export function authenticationExtensions(json: string): AuthenticationExtensionInputs {
  return parseInputs(json, authenticationInputs);
}

/** What a registration's clientExtensionResults say about the new credential; undefined: not reported. */
export interface RegistrationExtensionFacts {
  /** credProps.rk: whether the credential is discoverable. */
  readonly discoverable?: boolean | undefined;
  /** prf.enabled: whether the credential supports PRF. */
  readonly prfEnabled?: boolean | undefined;
  /** largeBlob.supported: whether the authenticator stores large blobs for it. */
  readonly largeBlobSupported?: boolean | undefined;
}

const flag = (value: unknown): boolean | undefined => (typeof value === "boolean" ? value : undefined);
const member = (value: unknown, key: string): unknown =>
  typeof value === "object" && value !== null && !Array.isArray(value) && Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;

/**
 * Reads the three flags out of a registration's clientExtensionResults and nothing else: PRF
 * results and largeBlob blobs are never read, so they go no further than the parsed request.
 * A flag of the wrong type counts as not reported rather than refusing the registration: the
 * values are unsigned and informational, and refusing would orphan a passkey that the
 * authenticator has already stored.
 */
export function registrationExtensionFacts(results: unknown): RegistrationExtensionFacts {
  return {
    discoverable: flag(member(member(results, "credProps"), "rk")),
    prfEnabled: flag(member(member(results, "prf"), "enabled")),
    largeBlobSupported: flag(member(member(results, "largeBlob"), "supported")),
  };
}
