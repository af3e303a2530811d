/**
 * The limits of request fields, in one place: the RPC handlers refuse a longer value, or free
 * text with a character that hides or reorders what is shown (INVALID_ARGUMENT), and the code
 * that reads the same values elsewhere (credential JSON, the caller policy's audit of a refused
 * request) uses the same bounds. Bytes are UTF-8 bytes.
 */

/** A user id (the caller's name for its user, not the WebAuthn user handle). */
export const MAX_USER_ID_BYTES = 128;
/** A credential id, base64url: WebAuthn credential ids are at most 1023 bytes (§5.8.3). */
export const MAX_CREDENTIAL_ID_CHARS = 1366;
/** A short label: a credential's name, an operation's name. */
export const MAX_LABEL_BYTES = 128;
/** Text shown to people or kept for them: a user name, a display name, an operation's display text, a revocation reason. */
export const MAX_TEXT_BYTES = 256;
/** An operation's resource (e.g. a request path). */
export const MAX_RESOURCE_BYTES = 1024;
/** A step-up requirement's acceptable ACR values: how many, and each one's size. */
export const MAX_ACR_VALUES = 8;
export const MAX_ACR_VALUE_BYTES = 64;
/** The end user's client as the caller reports it. */
export const MAX_CLIENT_IP_BYTES = 64;
export const MAX_USER_AGENT_BYTES = 1024;
/** A session token or grant is a compact JWS of a few hundred bytes; this bounds the work on junk. */
export const MAX_TOKEN_BYTES = 8192;
/** An audit page token: a sealed position (the last key of a page, at most ≈ 2.5 KB) and its MAC. */
export const MAX_PAGE_TOKEN_BYTES = 4096;
/** A Begin call's extensions_json: the accepted inputs with two PRF salts fit in well under 1 KiB. */
export const MAX_EXTENSIONS_JSON_BYTES = 1024;
/** A PRF salt, decoded (WebAuthn PRF salts are usually 32 bytes). */
export const MAX_PRF_SALT_BYTES = 64;
/** An operation's payload digest, in bytes (a SHA-512 digest fits). */
export const MAX_PAYLOAD_DIGEST_BYTES = 64;

/**
 * What free text that people will read (names, labels, reasons, an operation's display text, the
 * client's reported address and user agent) must not contain: controls (Cc: NUL, newlines, ESC,
 * DEL, C1), format characters (Cf: the bidi embeddings and overrides U+202A–U+202E, isolates
 * U+2066–U+2069, marks U+200E/U+200F and U+061C, zero-width space, word joiner, BOM, soft hyphen,
 * tag characters) apart from the joiners U+200C/U+200D (emoji sequences and several scripts need
 * them), line and paragraph separators (Zl, Zp), and lone surrogates (Cs). Such characters let a
 * stored value show as something else in an admin or account page ("gnp.exe" reversed, a forged
 * second line in a log). HTML is not refused: escaping it is the page's job.
 */
const UNDISPLAYABLE = /(?![\u200C\u200D])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
const EVERY_UNDISPLAYABLE = new RegExp(UNDISPLAYABLE.source, "gu");

/** The first character `value` must not show as display text, as "U+XXXX"; undefined when none. */
export function undisplayableCharacter(value: string): string | undefined {
  const found = UNDISPLAYABLE.exec(value)?.[0];
  return found === undefined ? undefined : `U+${found.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
}

/** `value` with every character undisplayableCharacter names replaced by U+FFFD. */
export function replaceUndisplayable(value: string): string {
  return value.replace(EVERY_UNDISPLAYABLE, "\uFFFD");
}
