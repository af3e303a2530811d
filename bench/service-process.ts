import { spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const ORIGIN = "http://localhost:8080";

export interface ServiceProcess {
  readonly pid: number;
  readonly address: string;
  /** The DevTools WebSocket URL when the service runs with `--inspect`. */
  readonly inspectorUrl: string | undefined;
  stop(): Promise<void>;
}

const READY_DEADLINE_MS = 60_000;
const LISTENING = /dynauthn listening on http:\/\/127\.0\.0\.1:(\d+)/;
const BARE_LISTENING = /bare grpc-js listening on 127\.0\.0\.1:(\d+)/;
const INSPECTOR = /^Debugger listening on (ws:\/\/\S+)/;

/** The allowCredentials list cache TTL the benchmarked service runs with (RESULTS.md says so). */
export const BENCH_LIST_CACHE_TTL_SECONDS = 600;

/** The key files of one run's services: a signing key and a server secret (replicas share both). */
export interface OperatorFiles {
  readonly keyFile: string;
  readonly secretsFile: string;
  remove(): Promise<void>;
}

export async function writeOperatorFiles(): Promise<OperatorFiles> {
  const dir = await mkdtemp(join(tmpdir(), "dynauthn-bench-"));
  const keyFile = join(dir, "signing.pem");
  const secretsFile = join(dir, "server-secrets");
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  await writeFile(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  await writeFile(secretsFile, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600 });
  return { keyFile, secretsFile, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * The built service (`dist/main.js`) as its own process, as an operator runs it, so its CPU time
 * and memory are its own and not the bench's.
 */
export async function startServiceProcess(
  dynamoEndpoint: string,
  tablePrefix: string,
  files: Pick<OperatorFiles, "keyFile" | "secretsFile">,
  nodeArgs: readonly string[] = [],
): Promise<ServiceProcess> {
  return startListening([...nodeArgs, "dist/main.js"], LISTENING, {
    PATH: process.env.PATH,
    PORT: "0", // the kernel picks a free port; the service prints it
    HOST: "127.0.0.1",
    DYNAMODB_ENDPOINT: dynamoEndpoint,
    TABLE_PREFIX: tablePrefix,
    CREATE_TABLES: "true",
    SIGNING_KEY_FILE: files.keyFile,
    SERVER_SECRETS_FILE: files.secretsFile,
    LOG_LEVEL: "warn",
    RP_ORIGINS: ORIGIN,
    RP_ID: "localhost",
    // Long enough that every pool user's allowCredentials list stays cached between its sign-ins
    // at 1 in flight too (the targets are for warm caches; the default 30 s is a freshness choice).
    CREDENTIAL_CACHE_TTL_SECONDS: String(BENCH_LIST_CACHE_TTL_SECONDS),
    // bench:verify-op measures the service with and without its verified-token cache.
    ...(process.env.VERIFIED_TOKEN_CACHE_MAX_ENTRIES ? { VERIFIED_TOKEN_CACHE_MAX_ENTRIES: process.env.VERIFIED_TOKEN_CACHE_MAX_ENTRIES } : {}),
  });
}

/** The bare-gRPC floor (bare-grpc-server.ts) as its own process. */
export function startBareGrpcServer(): Promise<ServiceProcess> {
  return startListening([fileURLToPath(new URL("./bare-grpc-server.js", import.meta.url))], BARE_LISTENING, { PATH: process.env.PATH });
}

/** Runs node with `args` and waits until its stdout names the port it listens on (`listening`'s group 1). */
async function startListening(args: readonly string[], listening: RegExp, env: NodeJS.ProcessEnv): Promise<ServiceProcess> {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env });
  const output: string[] = [];
  let inspectorUrl: string | undefined;
  const inspecting = new Promise<void>((done) => {
    if (!args.some((arg) => arg.startsWith("--inspect"))) done();
    createInterface({ input: child.stderr }).on("line", (line) => {
      output.push(line);
      inspectorUrl ??= INSPECTOR.exec(line)?.[1];
      if (inspectorUrl) done();
    });
  });
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));

  const port = await new Promise<number>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`${args.at(-1)} did not start in time`)), READY_DEADLINE_MS);
    createInterface({ input: child.stdout }).on("line", (line) => {
      output.push(line);
      const match = listening.exec(line);
      if (match) {
        clearTimeout(timer);
        done(Number(match[1]));
      }
    });
    void exited.then((code) => fail(new Error(`${args.at(-1)} exited with ${code}:\n${output.join("\n")}`)));
  });
  await inspecting; // printed before the process starts listening, so no wait in practice

  return {
    pid: child.pid!,
    address: `127.0.0.1:${port}`,
    inspectorUrl,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}
