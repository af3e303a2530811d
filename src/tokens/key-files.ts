import { lstat, mkdir, readdir, readFile, realpath, stat, writeFile } from "node:fs/promises";
import { isAbsolute, join, relative, sep } from "node:path";
import type { Logger } from "pino";
import { newPrivateKey, parsePrivateKey, signingKeyOf, type SigningAlg, type SigningKey } from "./signing-key.js";

/**
 * A key directory (e.g. a Kubernetes Secret mounted as a volume) holds one PEM private key per
 * file, named by the moment it activates: `20261115T120000Z.pem`, optionally with a suffix
 * (`20261115T120000Z-ab12cd34.pem`). Names carry the time because a mounted Secret gives every
 * file the same modification time. Dot-files (the Secret's `..data` links) are skipped. A
 * `.pem.kms` file holds the PEM encrypted under an AWS KMS key (the raw CiphertextBlob).
 */
const KEY_FILE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z(?:[-_.][A-Za-z0-9_.-]*)?\.pem(\.kms)?$/;

/** Turns a KMS-encrypted key file's content into its PEM (see kms-key-files.ts). */
export type KeyDecryptor = (ciphertext: Buffer) => Promise<Buffer>;

/** `20261115T120000Z` for an epoch-ms time (whole seconds). */
function stamp(at: number): string {
  return new Date(at).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}Z$/, "Z");
}

/** The file name for a key that activates at `activatesAt` (epoch ms). */
export function keyFileName(activatesAt: number, kid: string, encrypted = false): string {
  return `${stamp(activatesAt)}-${kid.slice(0, 8)}.pem${encrypted ? ".kms" : ""}`;
}

/** The activation time a key file's name carries, or undefined for a name that is not a key file. */
export function activationOf(name: string): number | undefined {
  const m = KEY_FILE.exec(name);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const at = Date.UTC(y, mo - 1, d, h, mi, s);
  // Date.UTC rolls 20261340 over into another date: only a time that prints back the same is valid.
  return stamp(at) === name.slice(0, 16) ? at : undefined;
}

/** A key file's name and raw content, before parsing. */
export interface KeyFile {
  readonly name: string;
  readonly activatesAt: number;
  readonly content: Buffer;
  /** A `.pem.kms` file: the content is a KMS ciphertext. */
  readonly encrypted: boolean;
}

/**
 * What a key directory's permissions and links expose, as log lines without key material. Warned:
 * a directory anyone may write (keys could be added or swapped), a plain `.pem` key that others
 * may read or that anyone but its owner may write, and a link that leads out of the directory.
 * Not warned: group read (the Helm chart mounts keys 0440 with an fsGroup so a non-root pod can
 * read them) and links that stay inside the directory (a Kubernetes Secret volume's files are
 * links through `..data` to a timestamped directory beside them). `.pem.kms` files hold
 * ciphertext only. Each finding is logged once per process, not at every reload.
 */
export class KeyFileAudit {
  readonly #warned = new Set<string>();

  constructor(private readonly logger: Logger) {}

  async check(dir: string, names: readonly string[]): Promise<void> {
    const realDir = await realpath(dir);
    if (((await stat(dir)).mode & 0o002) !== 0) this.#warn("key directory is world-writable: anyone on the host can add or replace a signing key", dir);
    for (const name of names) {
      const path = join(dir, name);
      if ((await lstat(path)).isSymbolicLink()) {
        const outside = relative(realDir, await realpath(path));
        // `..data/...` and `..2026_11_24/...` are inside; only a `..` path segment leaves.
        if (outside === ".." || outside.startsWith(`..${sep}`) || isAbsolute(outside)) this.#warn("key file is a link to a file outside the key directory", path);
      }
      const mode = (await stat(path)).mode;
      if (name.endsWith(".pem") && (mode & 0o022) !== 0) this.#warn("private key file may be written by others than its owner", path, mode);
      if (name.endsWith(".pem") && (mode & 0o004) !== 0) this.#warn("private key file is readable by every user on the host", path, mode);
    }
  }

  #warn(message: string, path: string, mode?: number): void {
    const key = `${message} ${path}`;
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.logger.warn({ event: "key_file_exposed", path, ...(mode === undefined ? {} : { mode: `0${(mode & 0o777).toString(8)}` }) }, message);
  }
}

/**
 * Reads every key file of `dir`; a `.pem` file that is not named by its activation time is an
 * error. With `audit`, the files' permissions and links are checked (KeyFileAudit) first.
 */
export async function readKeyDirectory(dir: string, audit?: KeyFileAudit): Promise<KeyFile[]> {
  const names = (await readdir(dir)).filter((name) => !name.startsWith(".") && /\.pem(\.kms)?$/.test(name)).sort();
  await audit?.check(dir, names);
  const files = await Promise.all(
    names.map(async (name) => {
      const activatesAt = activationOf(name);
      if (activatesAt === undefined) {
        throw new Error(`${join(dir, name)}: name key files by their activation time, e.g. 20261115T120000Z.pem`);
      }
      return { name, activatesAt, content: await readFile(join(dir, name)), encrypted: name.endsWith(".kms") };
    }),
  );
  if (files.length === 0) throw new Error(`${dir}: no key files (*.pem); run npm run keys:generate`);
  return files;
}

/** Parses key files into signing keys, decrypting `.pem.kms` files with `decrypt`. */
export function parseKeyFiles(files: readonly KeyFile[], decrypt?: KeyDecryptor): Promise<SigningKey[]> {
  return Promise.all(
    files.map(async (f) => {
      try {
        if (f.encrypted && !decrypt) throw new Error("a KMS-encrypted key file needs a KMS decryptor");
        const pem = f.encrypted ? await decrypt!(f.content) : f.content;
        return await signingKeyOf(parsePrivateKey(pem), f.activatesAt);
      } catch (err) {
        throw new Error(`${f.name}: ${(err as Error).message}`);
      }
    }),
  );
}

/**
 * Generates a key and writes it to `dir` as PKCS#8 PEM (mode 0600), named by its activation time;
 * with `encrypt` (a KMS key), only the ciphertext is written, as `.pem.kms`. Never overwrites.
 */
export async function writeNewKeyFile(
  dir: string,
  alg: SigningAlg,
  activatesAt: number,
  encrypt?: (pem: Buffer) => Promise<Buffer>,
): Promise<{ readonly path: string; readonly key: SigningKey }> {
  const privateKey = newPrivateKey(alg);
  const key = await signingKeyOf(privateKey, Math.floor(activatesAt / 1000) * 1000);
  const path = join(dir, keyFileName(key.activatesAt, key.kid, encrypt !== undefined));
  const pem = Buffer.from(privateKey.export({ format: "pem", type: "pkcs8" }));
  const content = encrypt ? await encrypt(pem) : pem;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(path, content, { mode: 0o600, flag: "wx" });
  return { path, key };
}
