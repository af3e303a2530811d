import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DecryptCommand,
  type DecryptCommandInput,
  EncryptCommand,
  type EncryptCommandInput,
  InvalidCiphertextException,
  KMSClient,
} from "@aws-sdk/client-kms";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { writeNewKeyFile } from "../../src/tokens/key-files.js";
import { kmsEncryptor } from "../../src/tokens/kms-key-files.js";
import { openKeyRing } from "../../src/tokens/open-key-ring.js";
import { issueStepUpGrant, verifyStepUpGrant } from "../../src/tokens/step-up-grant.js";
import { VerifiedTokens } from "../../src/tokens/verified-tokens.js";

/**
 * No KMS emulator is installable here, so KMS is the SDK's own mock (aws-sdk-client-mock) doing
 * real cryptography: AES-256-GCM under a random "KMS key", with the encryption context as
 * authenticated data, as KMS binds it. The signing keys are real P-256/Ed25519 keys.
 */
const KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555";
const kmsKey = randomBytes(32);
const context = (ctx: Record<string, string> | undefined) => Buffer.from(JSON.stringify(ctx ?? {}));

function encrypt(input: EncryptCommandInput) {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", kmsKey, iv).setAAD(context(input.EncryptionContext));
  const sealed = Buffer.concat([cipher.update(input.Plaintext!), cipher.final()]);
  return { KeyId: KEY_ARN, CiphertextBlob: new Uint8Array(Buffer.concat([iv, cipher.getAuthTag(), sealed])) };
}

/** Set to make the next Decrypt fail as KMS would (e.g. a missing kms:Decrypt permission). */
let refuseNext: Error | undefined;

function decrypt(input: DecryptCommandInput) {
  if (refuseNext) {
    const err = refuseNext;
    refuseNext = undefined;
    throw err;
  }
  const blob = Buffer.from(input.CiphertextBlob!);
  try {
    const decipher = createDecipheriv("aes-256-gcm", kmsKey, blob.subarray(0, 12)).setAAD(context(input.EncryptionContext));
    decipher.setAuthTag(blob.subarray(12, 28));
    return { KeyId: KEY_ARN, Plaintext: new Uint8Array(Buffer.concat([decipher.update(blob.subarray(28)), decipher.final()])) };
  } catch {
    throw new InvalidCiphertextException({ message: "InvalidCiphertextException", $metadata: {} });
  }
}

describe("KMS-encrypted key files (aws-sdk-client-mock, real key material)", () => {
  const kms = mockClient(KMSClient);
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "kms-keys-"));
    dirs.push(dir);
    return dir;
  };
  const open = (dir: string) =>
    openKeyRing(loadConfig({ SIGNING_KEYS_DIR: dir, KEY_RELOAD_SECONDS: "0", AWS_REGION: "us-east-1" }), createLogger("silent"));

  beforeAll(() => {
    kms.on(EncryptCommand).callsFake(async (input: EncryptCommandInput) => encrypt(input));
    kms.on(DecryptCommand).callsFake(async (input: DecryptCommandInput) => decrypt(input));
  });
  afterEach(() => {
    kms.resetHistory();
    dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true }));
  });
  afterAll(() => kms.restore());

  it("keys:generate writes only the ciphertext; the service decrypts each file once, at load", async () => {
    const dir = tempDir();
    const now = Date.now();
    const sealer = kmsEncryptor(new KMSClient({ region: "us-east-1" }), "alias/dynauthn-signing");
    const first = await writeNewKeyFile(dir, "ES256", now - 60_000, sealer);
    expect(first.path).toMatch(/\.pem\.kms$/);
    expect(readFileSync(first.path).toString("latin1")).not.toContain("PRIVATE KEY");
    expect(kms.commandCalls(EncryptCommand)[0]!.args[0].input).toMatchObject({
      KeyId: "alias/dynauthn-signing",
      EncryptionContext: { purpose: "dynauthn-signing-key" },
    });

    const { ring, reloader } = await open(dir);
    expect(ring.keys.map((k) => k.kid)).toEqual([first.key.kid]);
    const { token } = await issueStepUpGrant(
      ring.signingKey(now),
      { tenant: "default", userId: "alice", credentialId: "c", authTime: now, acr: "phrh", amr: ["hwk"], operation: "op", once: false, asserted: true, sessionId: "s" },
      now,
      300,
    );
    await expect(verifyStepUpGrant(new VerifiedTokens(ring, 0), token, now)).resolves.toMatchObject({ userId: "alice" });

    // A rotation adds an EdDSA key: only the new file costs a Decrypt (one CloudTrail event each).
    const second = await writeNewKeyFile(dir, "EdDSA", now, sealer);
    expect(await reloader.reload()).toBe(true);
    expect(await reloader.reload()).toBe(false);
    expect(ring.keys.map((k) => k.kid)).toEqual([first.key.kid, second.key.kid]);
    expect(kms.commandCalls(DecryptCommand)).toHaveLength(2);
    expect(kms.commandCalls(DecryptCommand)[0]!.args[0].input.EncryptionContext).toEqual({ purpose: "dynauthn-signing-key" });
  });

  it("refuses to start when KMS refuses; a ciphertext made for another purpose is refused", async () => {
    const dir = tempDir();
    const sealed = await writeNewKeyFile(dir, "ES256", Date.now(), async (pem) =>
      Buffer.from(encrypt({ KeyId: KEY_ARN, Plaintext: pem, EncryptionContext: { purpose: "something-else" } }).CiphertextBlob),
    );
    await expect(open(dir)).rejects.toThrow(new RegExp(`${sealed.path.split("/").pop()!.replace(/\./g, "\\.")}: InvalidCiphertextException`));

    refuseNext = Object.assign(new Error("User is not authorized to perform: kms:Decrypt"), { name: "AccessDeniedException" });
    rmSync(sealed.path);
    await writeNewKeyFile(dir, "ES256", Date.now(), kmsEncryptor(new KMSClient({ region: "us-east-1" }), KEY_ARN));
    await expect(open(dir)).rejects.toThrow(/kms:Decrypt/);
    await expect(open(dir)).resolves.toMatchObject({ ring: expect.anything() }); // a failed Decrypt is retried
  });
});
