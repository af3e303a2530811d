import { createHash } from "node:crypto";
import { DecryptCommand, EncryptCommand, type KMSClient } from "@aws-sdk/client-kms";
import type { KeyDecryptor } from "./key-files.js";

/**
 * Every key file is encrypted and decrypted under this encryption context: KMS refuses a
 * ciphertext made for another purpose, and CloudTrail records the context with each Decrypt.
 */
export const KEY_FILE_ENCRYPTION_CONTEXT: Readonly<Record<string, string>> = Object.freeze({ purpose: "dynauthn-signing-key" });

/**
 * Decrypts `.pem.kms` key files with KMS Decrypt. Each distinct ciphertext is decrypted once per
 * process (at start, and when a rotated file first appears), not at every reload: each Decrypt is
 * a CloudTrail event, and a quiet trail is a readable one. A failed Decrypt is retried next time.
 */
export function kmsDecryptor(client: KMSClient): KeyDecryptor {
  const decrypted = new Map<string, Promise<Buffer>>();
  return (ciphertext) => {
    const id = createHash("sha256").update(ciphertext).digest("hex");
    let plaintext = decrypted.get(id);
    if (!plaintext) {
      plaintext = client
        .send(new DecryptCommand({ CiphertextBlob: ciphertext, EncryptionContext: { ...KEY_FILE_ENCRYPTION_CONTEXT } }))
        .then((out) => Buffer.from(out.Plaintext ?? new Uint8Array()));
      plaintext.catch(() => decrypted.delete(id));
      decrypted.set(id, plaintext);
    }
    return plaintext;
  };
}

/** Encrypts a new key file's PEM under `keyId` (a key id, ARN or alias) for keys:generate. */
export function kmsEncryptor(client: KMSClient, keyId: string): (pem: Buffer) => Promise<Buffer> {
  return async (pem) => {
    const out = await client.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: pem, EncryptionContext: { ...KEY_FILE_ENCRYPTION_CONTEXT } }),
    );
    if (!out.CiphertextBlob) throw new Error("KMS returned no ciphertext");
    return Buffer.from(out.CiphertextBlob);
  };
}
