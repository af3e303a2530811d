import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { newPrivateKey, parsePrivateKey, signingKeyOf, type SigningAlg, type SigningKey } from "./signing-key.js";

/**
 * A key directory (e.g. a Kubernetes Secret mounted as a volume) holds one PEM private key per
 * file, named by the moment it activates: `20261115T120000Z.pem`, optionally with a suffix
 * (`20261115T120000Z-ab12cd34.pem`). Names carry the time because a mounted Secret gives every
 * file the same modification time. Dot-files (the Secret's `..data` links) are skipped.
 */
const KEY_FILE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z(?:[-_.][A-Za-z0-9_.-]*)?\.pem$/;

/** `20261115T120000Z` for an epoch-ms time (whole seconds). */
function stamp(at: number): string {
  return new Date(at).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}Z$/, "Z");
}

/** The file name for a key that activates at `activatesAt` (epoch ms). */
export function keyFileName(activatesAt: number, kid: string): string {
  return `${stamp(activatesAt)}-${kid.slice(0, 8)}.pem`;
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
}

/** Reads every key file of `dir`; a `.pem` file that is not named by its activation time is an error. */
export async function readKeyDirectory(dir: string): Promise<KeyFile[]> {
  const names = (await readdir(dir)).filter((name) => !name.startsWith(".") && name.endsWith(".pem")).sort();
  const files = await Promise.all(
    names.map(async (name) => {
      const activatesAt = activationOf(name);
      if (activatesAt === undefined) {
        throw new Error(`${join(dir, name)}: name key files by their activation time, e.g. 20261115T120000Z.pem`);
      }
      return { name, activatesAt, content: await readFile(join(dir, name)) };
    }),
  );
  if (files.length === 0) throw new Error(`${dir}: no key files (*.pem); run npm run keys:generate`);
  return files;
}

/** Parses key files into signing keys. */
export function parseKeyFiles(files: readonly KeyFile[]): Promise<SigningKey[]> {
  return Promise.all(
    files.map(async (f) => {
      try {
        return await signingKeyOf(parsePrivateKey(f.content), f.activatesAt);
      } catch (err) {
        throw new Error(`${f.name}: ${(err as Error).message}`);
      }
    }),
  );
}

/**
 * Generates a key and writes it to `dir` as PKCS#8 PEM (mode 0600), named by its activation time.
 * Never overwrites: a name that exists is an error.
 */
export async function writeNewKeyFile(
  dir: string,
  alg: SigningAlg,
  activatesAt: number,
): Promise<{ readonly path: string; readonly key: SigningKey }> {
  const privateKey = newPrivateKey(alg);
  const key = await signingKeyOf(privateKey, Math.floor(activatesAt / 1000) * 1000);
  const path = join(dir, keyFileName(key.activatesAt, key.kid));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(path, privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600, flag: "wx" });
  return { path, key };
}
