import { randomBytes } from "node:crypto";
import { encodeCBOR } from "@levischuck/tiny-cbor";
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { SoftAuthenticator } from "./soft-authenticator.js";
import { ORIGIN } from "./service.js";

/** Every base64url field of a registration response, as a path into its JSON. */
export const REGISTRATION_B64_FIELDS = [["id"], ["rawId"], ["response", "clientDataJSON"], ["response", "attestationObject"]];

/** Every base64url field of an authentication response, as a path into its JSON. */
export const AUTHENTICATION_B64_FIELDS = [
  ["id"],
  ["rawId"],
  ["response", "clientDataJSON"],
  ["response", "authenticatorData"],
  ["response", "signature"],
  ["response", "userHandle"],
];

/** A deep copy of `value` with the field at `path` replaced (or removed when `replacement` is undefined). */
export function withField<T>(value: T, path: readonly string[], replacement: unknown): T {
  const copy = structuredClone(value) as Record<string, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  const last = path.at(-1)!;
  if (replacement === undefined) delete node[last];
  else node[last] = replacement;
  return copy as T;
}

export function fieldAt(value: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], value);
}

/**
 * What an attacker puts in a base64url field: cut short, random or not base64url at all. (Other
 * encodings of the same bytes, e.g. with padding, are the same answer, not a hostile one.)
 */
export function hostileBase64(original: string): Record<string, string> {
  const bytes = Buffer.from(original, "base64url");
  return {
    "truncated by half": bytes.subarray(0, bytes.length >> 1).toString("base64url"),
    "one byte": bytes.subarray(0, 1).toString("base64url"),
    "random bytes": randomBytes(bytes.length || 32).toString("base64url"),
    "not base64url": "!!$$**",
    "a '*' inside": `${original.slice(0, 4)}*${original.slice(4)}`,
  };
}

/** Raw CBOR that lies about types, nests without end or declares lengths it does not have. */
export const HOSTILE_ATTESTATION_OBJECTS: Record<string, Uint8Array> = {
  "authData as a text string": encodeCBOR(new Map<string, unknown>([["fmt", "none"], ["attStmt", new Map()], ["authData", "not bytes"]]) as never),
  "fmt as an integer": encodeCBOR(new Map<string, unknown>([["fmt", 7], ["attStmt", new Map()], ["authData", new Uint8Array(37)]]) as never),
  "attStmt as an array, authData too short": encodeCBOR(new Map<string, unknown>([["fmt", "none"], ["attStmt", [1, 2]], ["authData", new Uint8Array(3)]]) as never),
  "a top-level array": encodeCBOR(["fmt", "none"] as never),
  "10 000 nested arrays": Buffer.concat([Buffer.alloc(10_000, 0x81), Buffer.from([0x00])]),
  "10 000 nested maps": Buffer.concat([Buffer.alloc(10_000 * 2).fill(Buffer.from([0xa1, 0x00])), Buffer.from([0x00])]),
  "a byte string declaring 2^64-1 bytes": Buffer.from([0xa1, 0x68, ...Buffer.from("authData"), 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]),
  "a map declaring 2^32-1 entries": Buffer.from([0xba, 0xff, 0xff, 0xff, 0xff, 0x00]),
  "an array declaring 2^32-1 items": Buffer.from([0x9a, 0xff, 0xff, 0xff, 0xff]),
  "an indefinite map with no break": Buffer.from([0xbf, 0x63, ...Buffer.from("fmt"), 0x64, ...Buffer.from("none")]),
  "a reserved additional-info byte": Buffer.from([0x1c]),
};

/** Identifiers built to confuse logs, keys and parsers. */
export const UNICODE_TRICK_IDS: Record<string, string> = {
  NUL: "alice\u0000admin",
  "RTL override": "alice\u202Egnp.exe",
  "lone high surrogate": "alice\uD800",
  "lone low surrogate": "\uDC00bob",
  "a '#' (the key separator)": "alice#CRED#x",
  "zero-width joiner": "ali\u200Dce",
};

/**
 * Free text built to show as something else where it is displayed (admin and account pages, logs):
 * each holds one character display text must not contain. Lone surrogates are not here: they
 * are not UTF-8, so no transport carries them to a handler (unit/display-text covers them).
 */
export const HOSTILE_DISPLAY_TEXT: Record<string, string> = {
  NUL: "Key\u0000admin",
  newline: "YubiKey\nrevoked by admin",
  "carriage return": "YubiKey\r",
  ESC: "\u001B[31mred",
  DEL: "Key\u007F",
  "C1 NEL": "Key\u0085",
  "RTL override": "Laptop\u202Egnp.exe",
  "LTR embedding": "\u202AKey",
  "RTL isolate": "\u2067Key\u2069",
  "RTL mark": "Key\u200F",
  "zero-width space": "Yubi\u200BKey",
  BOM: "\uFEFFKey",
  "tag character": "Key\u{E0041}",
  "line separator": "Key\u2028second line",
};

/** Display text that must be kept exactly: markup (escaping is the UI's), scripts and emoji sequences that need the joiners. */
export const HONEST_DISPLAY_TEXT = ["<script>alert(1)</script> & \"Zoë's\" 鍵", "Family 👨\u200D👩\u200D👧 iPad", "می\u200Cخواهم"];

/** An honest registration and sign-in answer from the software authenticator, to mutate. */
export function honestCredentials(): { registration: RegistrationResponseJSON; authentication: AuthenticationResponseJSON } {
  const authenticator = new SoftAuthenticator();
  const challenge = randomBytes(32).toString("base64url");
  const registration = authenticator.create(
    {
      challenge,
      rp: { id: "localhost", name: "fuzz" },
      user: { id: randomBytes(16).toString("base64url"), name: "fuzz", displayName: "fuzz" },
      pubKeyCredParams: [{ type: "public-key", alg: -7 }],
    },
    ORIGIN,
  );
  const authentication = authenticator.get({ challenge, rpId: "localhost" }, ORIGIN);
  return { registration, authentication };
}
