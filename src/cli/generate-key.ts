import { parseArgs } from "node:util";
import { loadConfig } from "../config.js";
import { writeNewKeyFile } from "../tokens/key-files.js";

/**
 * `npm run keys:generate -- [--dir DIR] [--alg ES256|EdDSA] [--activate-in SECONDS]`: writes a new
 * signing key into the key directory (default SIGNING_KEYS_DIR). The running service publishes it
 * at its next reload and starts signing with it at its activation time; older keys keep verifying
 * until their tokens have expired. `--activate-in` at least the JWKS cache age (300 s) lets every
 * verifier learn the key before the first token it signs.
 */
const USAGE = "usage: npm run keys:generate -- [--dir DIR] [--alg ES256|EdDSA] [--activate-in SECONDS]";

try {
  const { values } = parseArgs({
    options: {
      dir: { type: "string" },
      alg: { type: "string", default: "ES256" },
      "activate-in": { type: "string", default: "0" },
    },
  });
  const dir = values.dir ?? loadConfig().signingKeys.dir;
  const activateIn = Number(values["activate-in"]);
  if (!dir) throw new Error(`--dir or SIGNING_KEYS_DIR is required\n${USAGE}`);
  if (values.alg !== "ES256" && values.alg !== "EdDSA") throw new Error(`--alg must be ES256 or EdDSA\n${USAGE}`);
  if (!Number.isSafeInteger(activateIn) || activateIn < 0) throw new Error(`--activate-in must be whole seconds\n${USAGE}`);
  const { path, key } = await writeNewKeyFile(dir, values.alg, Date.now() + activateIn * 1000);
  process.stdout.write(
    `${path}\nkid ${key.kid}, ${key.alg}, signs from ${new Date(key.activatesAt).toISOString()}\n` +
      `Kubernetes: add it to the Secret mounted at SIGNING_KEYS_DIR (keep the older keys until they retire).\n`,
  );
} catch (err) {
  process.stderr.write(`keys:generate failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
