import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

/** Debian's Chromium, used where it is installed: the browser the OS keeps patched. */
const SYSTEM_CHROMIUM = "/usr/bin/chromium";

/** A Chromium for Linux x64 inside an npm package: what `npm ci` alone brings to a fresh machine. */
const BUNDLED_PACKAGE = "@sparticuz/chromium";

/** The bundled browser is unpacked once per package version here, and goes with node_modules. */
const CACHE_DIR = fileURLToPath(new URL("../../node_modules/.cache/dynauthn-chromium/", import.meta.url));

/** What to do where no Chromium this suite finds can run. */
export const CHROMIUM_ADVICE = "Set CHROMIUM_PATH to a Chromium or Chrome that runs on this machine.";

/** A Chromium executable, and where it came from, for the messages of a launch that fails. */
export interface ChromiumExecutable {
  readonly path: string;
  readonly source: string;
}

/**
 * The Chromium this suite drives: CHROMIUM_PATH if set, else Debian's if installed, else the one
 * the devDependency @sparticuz/chromium ships. Nothing is downloaded.
 */
export async function chromiumExecutable(): Promise<ChromiumExecutable> {
  const chosen = process.env.CHROMIUM_PATH;
  if (chosen) return { path: chosen, source: "CHROMIUM_PATH" };
  if (existsSync(SYSTEM_CHROMIUM)) return { path: SYSTEM_CHROMIUM, source: "the system's Chromium" };
  return { path: await unpackBundledChromium(), source: BUNDLED_PACKAGE };
}

/**
 * The package's `executablePath()` unpacks into os.tmpdir() and returns any `chromium` already
 * there, even one another process is still writing, or one a killed run left half written. So it
 * runs in a child process whose TMPDIR is a fresh staging directory, which is then renamed into
 * place: the versioned directory exists only complete, and test files that start Chromium in
 * parallel (vitest's forks) each either find it or race to a rename that only one wins.
 */
async function unpackBundledChromium(): Promise<string> {
  const entry = createRequire(import.meta.url).resolve(BUNDLED_PACKAGE);
  const { version } = JSON.parse(await readFile(join(dirname(entry), "../../package.json"), "utf8")) as { version: string };
  const unpacked = join(CACHE_DIR, version);
  const executable = join(unpacked, "chromium");
  if (existsSync(executable)) return executable;

  await mkdir(CACHE_DIR, { recursive: true });
  const staging = await mkdtemp(join(CACHE_DIR, `${version}.unpacking-`));
  try {
    const unpack = `require(${JSON.stringify(entry)}).executablePath()`;
    await promisify(execFile)(process.execPath, ["-e", unpack], { env: { ...process.env, TMPDIR: staging } }).catch((cause: unknown) => {
      throw new Error(`${BUNDLED_PACKAGE} ${version} did not unpack its Chromium. ${CHROMIUM_ADVICE}`, { cause });
    });
    await rename(staging, unpacked).catch((error: NodeJS.ErrnoException) => {
      // Another test file's rename won: its copy is as complete as ours.
      if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return executable;
}
