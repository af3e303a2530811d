import { constants, createPublicKey, verify, type JsonWebKey, type KeyObject } from "node:crypto";
import { AsnParser, AsnSerializer } from "@peculiar/asn1-schema";
import { ECDSASigValue } from "@peculiar/asn1-ecc";
import { cose, decodeCredentialPublicKey } from "@simplewebauthn/server/helpers";
import { isPrimeOrderEd25519, isSoundRsaKey } from "./public-key-checks.js";

/**
 * "undecided": node:crypto refused an ECDSA signature that is not strict DER but that the
 * library's lenient BER reader accepts (trailing bytes, long-form lengths, unpadded or
 * over-padded integers); only the library can say whether it would accept it.
 */
export type SignatureVerdict = "valid" | "invalid" | "undecided";

/**
 * A credential public key parsed once into a node:crypto KeyObject (kept in the credential
 * cache), so an assertion costs one synchronous verify instead of the library's per-call COSE
 * decode, JWK import and WebCrypto thread-pool round trip.
 */
export interface AssertionKey {
  readonly alg: number;
  /** Verifies a signature over authenticatorData ‖ SHA-256(clientDataJSON). */
  verify(signedData: Uint8Array, signature: Uint8Array): SignatureVerdict;
}

type Scheme =
  | { readonly kty: "EC2"; readonly crv: number; readonly curve: string; readonly size: number; readonly hash: string }
  | { readonly kty: "OKP" }
  | { readonly kty: "RSA"; readonly pss: boolean };

/**
 * The algorithms the service registers (SUPPORTED_ALGORITHMS), each with the one key shape the
 * library verifies it with (isoCrypto.verify: ECDSA hash from alg, RSA-PSS salt = hash length).
 * Any other COSE key, including odd combinations the library would still try (an EC2 P-256 key
 * labelled ES512) and keys that fail public-key-checks.ts, gets no AssertionKey: registration
 * refuses it and a sign-in with one stored before that rule is refused too.
 */
const SCHEMES: ReadonlyMap<number, Scheme> = new Map<number, Scheme>([
  [cose.COSEALG.ES256, { kty: "EC2", crv: cose.COSECRV.P256, curve: "P-256", size: 32, hash: "sha256" }],
  [cose.COSEALG.ES384, { kty: "EC2", crv: cose.COSECRV.P384, curve: "P-384", size: 48, hash: "sha384" }],
  [cose.COSEALG.ES512, { kty: "EC2", crv: cose.COSECRV.P521, curve: "P-521", size: 66, hash: "sha512" }],
  [cose.COSEALG.EdDSA, { kty: "OKP" }],
  [cose.COSEALG.RS256, { kty: "RSA", pss: false }],
  [cose.COSEALG.PS256, { kty: "RSA", pss: true }],
]);

const KTY = { EC2: cose.COSEKTY.EC2, OKP: cose.COSEKTY.OKP, RSA: cose.COSEKTY.RSA } as const;
const ED25519_KEY_BYTES = 32;
const SHA256_BYTES = 32;

/** The COSE key (as stored at registration) as an AssertionKey, or undefined: not a key the service accepts. */
export function parseAssertionKey(publicKey: Uint8Array): AssertionKey | undefined {
  let key: Map<number, unknown>;
  try {
    key = decodeCredentialPublicKey(publicKey as Uint8Array<ArrayBuffer>) as unknown as Map<number, unknown>;
    if (!(key instanceof Map)) return undefined;
  } catch {
    return undefined;
  }
  const alg = key.get(cose.COSEKEYS.alg);
  if (typeof alg !== "number") return undefined;
  const scheme = SCHEMES.get(alg);
  if (scheme === undefined || key.get(cose.COSEKEYS.kty) !== KTY[scheme.kty]) return undefined;
  try {
    return assertionKey(alg, scheme, key);
  } catch {
    return undefined; // not importable (e.g. a point off the curve)
  }
}

function assertionKey(alg: number, scheme: Scheme, key: Map<number, unknown>): AssertionKey | undefined {
  switch (scheme.kty) {
    case "EC2": {
      const x = bytes(key, cose.COSEKEYS.x, scheme.size);
      const y = bytes(key, cose.COSEKEYS.y, scheme.size);
      if (key.get(cose.COSEKEYS.crv) !== scheme.crv || !x || !y) return undefined;
      const publicKey = importJwk({ kty: "EC", crv: scheme.curve, x: b64(x), y: b64(y) });
      return {
        alg,
        verify: (data, signature) =>
          verifies(() => verify(scheme.hash, data, { key: publicKey, dsaEncoding: "der" }, signature))
            ? "valid"
            : libraryReadsOtherwise(signature)
              ? "undecided"
              : "invalid",
      };
    }
    case "OKP": {
      const x = bytes(key, cose.COSEKEYS.x, ED25519_KEY_BYTES);
      if (key.get(cose.COSEKEYS.crv) !== cose.COSECRV.ED25519 || !x || !isPrimeOrderEd25519(x)) return undefined;
      const publicKey = importJwk({ kty: "OKP", crv: "Ed25519", x: b64(x) });
      return { alg, verify: (data, signature) => verdict(verifies(() => verify(null, data, publicKey, signature))) };
    }
    case "RSA": {
      const n = bytes(key, cose.COSEKEYS.n);
      const e = bytes(key, cose.COSEKEYS.e);
      if (!n || !e || !isSoundRsaKey(n, e)) return undefined;
      const publicKey = importJwk({ kty: "RSA", n: b64(n), e: b64(e) });
      const options = scheme.pss
        ? { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: SHA256_BYTES }
        : { key: publicKey, padding: constants.RSA_PKCS1_PADDING };
      return { alg, verify: (data, signature) => verdict(verifies(() => verify("sha256", data, options, signature))) };
    }
  }
}

function bytes(key: Map<number, unknown>, label: number, length?: number): Uint8Array | undefined {
  const value = key.get(label);
  return value instanceof Uint8Array && value.length > 0 && (length === undefined || value.length === length)
    ? value
    : undefined;
}

const b64 = (value: Uint8Array) => Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64url");
const importJwk = (jwk: JsonWebKey): KeyObject => createPublicKey({ key: jwk, format: "jwk" });
const verdict = (valid: boolean): SignatureVerdict => (valid ? "valid" : "invalid");

/** node:crypto refuses some malformed signatures by throwing rather than returning false. */
function verifies(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}

/**
 * True when the library's own ASN.1 reader (the one its unwrapEC2Signature uses) reads the
 * signature but re-encoding it does not give the same bytes: not strict DER, so OpenSSL's refusal
 * may not be the library's. Unreadable signatures make the library throw: a refusal.
 */
function libraryReadsOtherwise(signature: Uint8Array): boolean {
  try {
    const parsed = AsnParser.parse(signature as Uint8Array<ArrayBuffer>, ECDSASigValue);
    return !Buffer.from(AsnSerializer.serialize(parsed)).equals(signature);
  } catch {
    return false;
  }
}
