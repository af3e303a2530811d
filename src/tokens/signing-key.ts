import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { calculateJwkThumbprint, exportJWK, type JWK } from "jose";

/** The JWS algorithms a signing key may use: ES256 (EC P-256, the default) or EdDSA (Ed25519). */
export type SigningAlg = "ES256" | "EdDSA";

/** A key that signs tokens. `kid` is the RFC 7638 thumbprint of its public JWK. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The public JWK as the JWKS publishes it (kid, alg, use "sig"). */
  readonly publicJwk: JWK;
  /** When the key starts signing (epoch ms); until then it is only published. */
  readonly activatesAt: number;
  /** A secret derived from the private key for server-side HMACs (e.g. enumeration decoys). */
  readonly derivedSecret: Uint8Array;
}

function algOf(privateKey: KeyObject): SigningAlg {
  if (privateKey.asymmetricKeyType === "ec" && privateKey.asymmetricKeyDetails?.namedCurve === "prime256v1") {
    return "ES256";
  }
  if (privateKey.asymmetricKeyType === "ed25519") return "EdDSA";
  throw new Error("a signing key must be an EC P-256 (ES256) or Ed25519 (EdDSA) private key");
}

/** Wraps a private key; `activatesAt` is when it may start signing (epoch ms). */
export async function signingKeyOf(privateKey: KeyObject, activatesAt: number): Promise<SigningKey> {
  const alg = algOf(privateKey);
  const publicKey = createPublicKey(privateKey);
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  const der = privateKey.export({ format: "der", type: "pkcs8" });
  const derivedSecret = createHash("sha256").update("dynauthn/derived-secret/v1").update(der).digest();
  return {
    kid,
    alg,
    privateKey,
    publicKey,
    publicJwk: Object.freeze({ ...jwk, kid, alg, use: "sig" }),
    activatesAt,
    derivedSecret,
  };
}

/** Parses a PEM private key (PKCS#8, or SEC1 for EC). */
export function parsePrivateKey(pem: string | Buffer): KeyObject {
  return createPrivateKey(pem);
}

/**
 * Loads SIGNING_KEY_FILE: one PEM key, e.g. mounted from a Kubernetes Secret. Its age (for the
 * rotation warning) is the file's modification time.
 */
export async function loadSigningKey(file: string): Promise<SigningKey> {
  const [pem, info] = await Promise.all([readFile(file), stat(file)]);
  return signingKeyOf(parsePrivateKey(pem), info.mtimeMs);
}

/** A fresh private key of the given algorithm. */
export function newPrivateKey(alg: SigningAlg = "ES256"): KeyObject {
  return alg === "EdDSA"
    ? generateKeyPairSync("ed25519").privateKey
    : generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
}

/** A fresh key, active from `activatesAt` (default now): the embedded development default and tests. */
export async function generateSigningKey(alg: SigningAlg = "ES256", activatesAt = Date.now()): Promise<SigningKey> {
  return signingKeyOf(newPrivateKey(alg), activatesAt);
}
