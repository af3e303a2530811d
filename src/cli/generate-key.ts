import { parseArgs } from "node:util";
import { KMSClient } from "@aws-sdk/client-kms";
import { loadConfig } from "../config.js";
import { writeNewKeyFile } from "../tokens/key-files.js";
import { kmsEncryptor } from "../tokens/kms-key-files.js";

/**
 * `npm run keys:generate -- [--dir DIR] [--alg ES256|EdDSA] [--activate-in SECONDS] [--kms-key-id KEY]`:
 * writes a new signing key into the key directory (default SIGNING_KEYS_DIR); with `--kms-key-id`
 * only its KMS ciphertext is written (`.pem.kms`, decrypted by the service at load). The running
 * service publishes it at its next reload and starts signing with it at its activation time; older
 * keys keep verifying until their tokens have expired. `--activate-in` at least the JWKS cache age (300 s) lets every
 * verifier learn the key before the first token it signs.
 */
const USAGE = "usage: npm run keys:generate -- [--dir DIR] [--alg ES256|EdDSA] [--activate-in SECONDS] [--kms-key-id KEY]";

try {
  const { values } = parseArgs({
    options: {
      dir: { type: "string" },
      alg: { type: "string", default: "ES256" },
      "activate-in": { type: "string", default: "0" },
      "kms-key-id": { type: "string" },
    },
  });
  const config = loadConfig();
  const dir = values.dir ?? config.signingKeys.dir;
  const activateIn = Number(values["activate-in"]);
  if (!dir) throw new Error(`--dir or SIGNING_KEYS_DIR is required\n${USAGE}`);
  if (values.alg !== "ES256" && values.alg !== "EdDSA") throw new Error(`--alg must be ES256 or EdDSA\n${USAGE}`);
  if (!Number.isSafeInteger(activateIn) || activateIn < 0) throw new Error(`--activate-in must be whole seconds\n${USAGE}`);
  const kmsKeyId = values["kms-key-id"];
  const encrypt = kmsKeyId ? kmsEncryptor(new KMSClient({ region: config.dynamodb.region }), kmsKeyId) : undefined;
  const { path, key } = await writeNewKeyFile(dir, values.alg, Date.now() + activateIn * 1000, encrypt);
  process.stdout.write(
    `${path}\nkid ${key.kid}, ${key.alg}, signs from ${new Date(key.activatesAt).toISOString()}\n` +
      `Kubernetes: add it to the Secret mounted at SIGNING_KEYS_DIR (keep the older keys until they retire).\n`,
  );
} catch (err) {
  process.stderr.write(`keys:generate failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
