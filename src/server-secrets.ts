import { hkdfSync, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";

/**
 * The service's own HMAC secret (SERVER_SECRETS_FILE), for values every replica must compute alike
 * whatever signing key each one has active: audit page tokens and decoy credential ids. It does not
 * rotate with the signing keys, so replicas started on either side of a key activation accept each
 * other's page tokens and an unknown user's decoy id never changes with a rotation (which would
 * tell a watcher that the user is unknown).
 *
 * The file holds one secret per line (base64 or base64url of at least 32 random bytes; blank lines
 * and `#` comments are skipped). The first line is current: it MACs new page tokens and derives
 * decoy ids. Any further lines are previous secrets, kept only to verify page tokens issued before
 * a rotation (docs/operations.md, "Server secret").
 */
export interface ServerSecrets {
  /** Page tokens: the first key MACs new tokens, every key verifies. */
  readonly pageTokenKeys: readonly [Uint8Array, ...Uint8Array[]];
  /** Decoy credential ids (from the current secret only: they must not vary between replicas). */
  readonly decoyKey: Uint8Array;
}

export const MIN_SECRET_BYTES = 32;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** One key per purpose (HKDF-SHA256), so a value computed for one use never serves another. */
function purposeKey(secret: Uint8Array, purpose: string): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", secret, new Uint8Array(0), `dynauthn/${purpose}/v1`, 32));
}

export function serverSecretsOf(secrets: readonly Uint8Array[]): ServerSecrets {
  const [current, ...previous] = secrets;
  if (current === undefined) throw new Error("no server secret");
  return Object.freeze<ServerSecrets>({
    pageTokenKeys: [purposeKey(current, "page-token"), ...previous.map((s) => purposeKey(s, "page-token"))],
    decoyKey: purposeKey(current, "decoy-credential"),
  });
}

/** The secrets a SERVER_SECRETS_FILE holds, current first; throws with the offending line number. */
export function parseServerSecrets(text: string): Uint8Array[] {
  const secrets: Uint8Array[] = [];
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    // Node's base64 decoder reads the URL-safe alphabet too.
    const bytes = BASE64.test(line) ? Buffer.from(line, "base64") : undefined;
    if (bytes === undefined || bytes.length < MIN_SECRET_BYTES) {
      throw new Error(`line ${index + 1}: not base64 of at least ${MIN_SECRET_BYTES} bytes`);
    }
    secrets.push(new Uint8Array(bytes));
  }
  if (secrets.length === 0) throw new Error("no secret in the file");
  return secrets;
}

export async function loadServerSecrets(file: string): Promise<ServerSecrets> {
  try {
    return serverSecretsOf(parseServerSecrets(await readFile(file, "utf8")));
  } catch (err) {
    // Never quote the file's content: it is the secret.
    throw new Error(`SERVER_SECRETS_FILE ${file}: ${(err as Error).message}`);
  }
}

/** For the embedded development mode and tests: valid for this process only. */
export function ephemeralServerSecrets(): ServerSecrets {
  return serverSecretsOf([randomBytes(MIN_SECRET_BYTES)]);
}
