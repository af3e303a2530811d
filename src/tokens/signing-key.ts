import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { calculateJwkThumbprint, exportJWK } from "jose";

/** The key that signs session tokens. `kid` is the RFC 7638 thumbprint of its public JWK. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: "ES256";
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** A secret derived from the private key for server-side HMACs (e.g. enumeration decoys). */
  readonly derivedSecret: Uint8Array;
}

async function fromPrivateKey(privateKey: KeyObject): Promise<SigningKey> {
  if (privateKey.asymmetricKeyType !== "ec" || privateKey.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    throw new Error("the signing key must be an EC P-256 private key (ES256)");
  }
  const publicKey = createPublicKey(privateKey);
  const kid = await calculateJwkThumbprint(await exportJWK(publicKey));
  const der = privateKey.export({ format: "der", type: "pkcs8" });
  const derivedSecret = createHash("sha256").update("dynauthn/derived-secret/v1").update(der).digest();
  return { kid, alg: "ES256", privateKey, publicKey, derivedSecret };
}

/** Loads a PEM (PKCS#8 or SEC1) EC P-256 private key, e.g. mounted from a Kubernetes Secret. */
export async function loadSigningKey(file: string): Promise<SigningKey> {
  return fromPrivateKey(createPrivateKey(await readFile(file)));
}

/** A fresh key for the embedded development default; tokens do not survive a restart. */
export async function generateSigningKey(): Promise<SigningKey> {
  return fromPrivateKey(generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey);
}
