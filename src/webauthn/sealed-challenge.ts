import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from "node:crypto";
import type { Ceremony, CeremonyKind, UserVerification } from "./ceremony.js";

/**
 * Stateless challenges: the ceremony a Begin call started travels inside its own challenge,
 * sealed with AES-256-GCM, so Begin writes nothing to DynamoDB (no latency, nothing to flood).
 * Single use is enforced at Finish by one conditional write of a consumed marker keyed by the
 * challenge's nonce (see ChallengeStore.markChallengeUsed).
 *
 * Layout (base64url): version (1) ‖ key id (8) ‖ nonce (12) ‖ ciphertext ‖ GCM tag (16).
 * Version and key id are authenticated as associated data. AEAD rather than a MAC because the
 * payload names the caller and the end user's IP, which the browser has no need to read.
 */

const VERSION = 1;
const KEY_ID_BYTES = 8;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + KEY_ID_BYTES;
/** User agents are kept to this many UTF-16 units so that challenges stay small. */
const MAX_USER_AGENT = 256;
/**
 * The longest challenge issued (and accepted in clientDataJSON). A user id is at most
 * MAX_USER_ID_BYTES (128) UTF-8 bytes, so even one of escaped control characters fits; the begin context (caller, client IP,
 * user agent) is audit detail and is left out when it would not fit.
 */
export const MAX_CHALLENGE_CHARS = 2048;

/** A sealing key, derived from one signing key's secret so every replica holding the ring has it. */
export interface SealKey {
  readonly id: Buffer;
  readonly key: Buffer;
}

/** HKDF-SHA-256 with a purpose label: the seal key is independent of every other derived use. */
export function sealKeyOf(secret: Uint8Array): SealKey {
  const key = Buffer.from(hkdfSync("sha256", secret, "", "dynauthn/challenge-seal/v1", 32));
  const id = createHash("sha256").update("dynauthn/challenge-seal-id/v1").update(key).digest().subarray(0, KEY_ID_BYTES);
  return { id, key };
}

/** A ceremony without its challenge: what the seal carries. */
export type CeremonyFields = Omit<Ceremony, "challenge">;

type Payload = [
  kind: CeremonyKind,
  tenant: string,
  userId: string | null,
  userHandle: string | null,
  uv: UserVerification,
  operationDigest: string | null,
  createdAt: number,
  expiresAt: number,
  caller: string,
  clientIp: string,
  clientUserAgent: string,
  // Absent from challenges sealed before profiles existed.
  algorithms?: readonly number[] | null,
  /** 1 for conditional create; absent otherwise, so other challenges stay as small as before. */
  conditional?: 1,
];

function toPayload(c: CeremonyFields): Payload {
  const payload: Payload = [
    c.kind,
    c.tenant,
    c.userId ?? null,
    c.userHandle ?? null,
    c.userVerification,
    c.operationDigest ?? null,
    c.createdAt,
    c.expiresAt,
    c.beganBy.caller,
    c.beganBy.clientIp,
    c.beganBy.clientUserAgent.slice(0, MAX_USER_AGENT),
    c.algorithms ?? null,
  ];
  if (c.conditional) payload.push(1);
  return payload;
}

function fromPayload(p: Payload, challenge: string): Ceremony {
  const [kind, tenant, userId, userHandle, userVerification, operationDigest, createdAt, expiresAt, caller, clientIp, ua, algorithms, conditional] = p;
  return {
    kind,
    tenant,
    challenge,
    userId: userId ?? undefined,
    userHandle: userHandle ?? undefined,
    userVerification,
    operationDigest: operationDigest ?? undefined,
    algorithms: algorithms ?? undefined,
    createdAt,
    expiresAt,
    beganBy: { caller, clientIp, clientUserAgent: ua },
    ...(conditional === 1 ? { conditional: true } : {}),
  };
}

/** Seals a ceremony into a fresh challenge (base64url) of at most MAX_CHALLENGE_CHARS. */
export function sealChallenge(key: SealKey, ceremony: CeremonyFields): string {
  const challenge = seal(key, ceremony);
  if (challenge.length <= MAX_CHALLENGE_CHARS) return challenge;
  return seal(key, { ...ceremony, beganBy: { caller: "", clientIp: "", clientUserAgent: "" } });
}

function seal(key: SealKey, ceremony: CeremonyFields): string {
  const header = Buffer.concat([Buffer.of(VERSION), key.id]);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key.key, nonce).setAAD(header);
  const body = Buffer.concat([cipher.update(JSON.stringify(toPayload(ceremony)), "utf8"), cipher.final()]);
  return Buffer.concat([header, nonce, body, cipher.getAuthTag()]).toString("base64url");
}

/** A sealed ceremony and the nonce that names it for single use. */
export interface OpenedChallenge {
  readonly ceremony: Ceremony;
  /** base64url; unique per challenge (96 random bits), the key of its consumed marker. */
  readonly nonce: string;
}

/**
 * Opens a challenge sealed by any of `keys`; undefined when it was not sealed by one of them or
 * was altered in any byte (GCM authenticates header, nonce and ciphertext).
 */
export function openChallenge(keys: readonly SealKey[], challenge: string): OpenedChallenge | undefined {
  const bytes = Buffer.from(challenge, "base64url");
  if (bytes.length < HEADER_BYTES + NONCE_BYTES + TAG_BYTES + 2 || bytes[0] !== VERSION) return undefined;
  if (bytes.toString("base64url") !== challenge) return undefined;
  const header = bytes.subarray(0, HEADER_BYTES);
  const key = keys.find((k) => k.id.equals(header.subarray(1)));
  if (!key) return undefined;
  const nonce = bytes.subarray(HEADER_BYTES, HEADER_BYTES + NONCE_BYTES);
  const tag = bytes.subarray(bytes.length - TAG_BYTES);
  const body = bytes.subarray(HEADER_BYTES + NONCE_BYTES, bytes.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv("aes-256-gcm", key.key, nonce, { authTagLength: TAG_BYTES }).setAAD(header);
    decipher.setAuthTag(tag);
    const plain = Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8");
    return { ceremony: fromPayload(JSON.parse(plain) as Payload, challenge), nonce: nonce.toString("base64url") };
  } catch {
    return undefined;
  }
}
