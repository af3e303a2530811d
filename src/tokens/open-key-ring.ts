import { KMSClient } from "@aws-sdk/client-kms";
import type { Logger } from "pino";
import { KeyFileAudit, parseKeyFiles, readKeyDirectory, type KeyDecryptor } from "./key-files.js";
import { KeyRing } from "./key-ring.js";
import { KeyRingReloader } from "./key-ring-reloader.js";
import { kmsDecryptor } from "./kms-key-files.js";
import { generateSigningKey, loadSigningKey, type SigningKey } from "./signing-key.js";

export interface OpenedKeyRing {
  readonly ring: KeyRing;
  readonly reloader: KeyRingReloader;
}

/** The signing-key settings of the service's Config (SIGNING_KEY_FILE, SIGNING_KEYS_DIR, AWS_REGION for KMS). */
export interface KeyRingSettings {
  readonly signingKeyFile: string | undefined;
  readonly signingKeys: { readonly dir: string | undefined; readonly reloadSeconds: number; readonly rotationDays: number };
  readonly dynamodb: { readonly region: string };
}

/**
 * The key ring from SIGNING_KEYS_DIR (rotating: re-read every KEY_RELOAD_SECONDS), from
 * SIGNING_KEY_FILE (one fixed key), or, in the embedded development default, a generated key.
 * A retired key stays published for the longest token lifetime any configuration allows (see
 * KeyRing), whatever the tenants' lifetimes are now. `.pem.kms` files are decrypted with AWS KMS
 * (region AWS_REGION, the default credential chain); the KMS client is made only when such a
 * file exists.
 */
export async function openKeyRing(config: KeyRingSettings, logger: Logger): Promise<OpenedKeyRing> {
  const { dir, reloadSeconds, rotationDays } = config.signingKeys;
  let load: () => Promise<SigningKey[]>;
  if (dir) {
    let decrypt: KeyDecryptor | undefined;
    const kms: KeyDecryptor = (ciphertext) => (decrypt ??= kmsDecryptor(new KMSClient({ region: config.dynamodb.region })))(ciphertext);
    const audit = new KeyFileAudit(logger);
    load = async () => parseKeyFiles(await readKeyDirectory(dir, audit), kms);
  } else {
    const key = config.signingKeyFile ? await loadSigningKey(config.signingKeyFile) : await generateSigningKey();
    if (!config.signingKeyFile) {
      logger.warn({ kid: key.kid }, "no SIGNING_KEYS_DIR or SIGNING_KEY_FILE: generated an ephemeral signing key (development only)");
    }
    load = async () => [key];
  }
  const ring = new KeyRing(await load());
  const reloader = new KeyRingReloader({ ring, load, logger, clock: Date.now, rotationDays });
  reloader.start(dir ? reloadSeconds : 0);
  logger.info({ kids: ring.keys.map((k) => k.kid), dir: dir ?? null }, "signing keys loaded");
  return { ring, reloader };
}
