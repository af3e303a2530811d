/**
 * `npm run bench`: DynamoDB Local, a counting proxy, the built service as its own process, and
 * grpc-js clients with software authenticators; measures floors and ceremonies in one run and
 * writes bench/RESULTS.md. BENCH_SCALE (default 1) multiplies every count, for quick trial runs.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { createDynamoClient } from "../src/store/client.js";
import { startEmbeddedDynamoDb } from "../src/store/embedded-dynamodb.js";
import { createTables, tableNames } from "../src/store/tables.js";
import { Ceremonies } from "./ceremonies.js";
import { startDynamoProxy } from "./dynamo-proxy.js";
import { rawEs256Verify, simpleWebAuthnVerify, storeFloors } from "./floors.js";
import { findPid, machine } from "./proc-stats.js";
import { markdown, summary, type BenchRun } from "./report.js";
import { finishAuthenticationAlone, registerPool, runScenario, type Kind, type ScenarioResult } from "./scenarios.js";
import { startServiceProcess } from "./service-process.js";

const SCALE = Number(process.env.BENCH_SCALE ?? "1");
const scaled = (n: number) => Math.max(64, Math.round(n * SCALE));
/** A multiple of every concurrency (see runScenario). */
const POOL_SIZE = 512;
const CONCURRENCIES = [1, 16, 64];
/** Ceremonies per scenario at 1 / 16 / 64 in flight: about 2–4 minutes in all on 2 cores. */
const COUNTS: Record<Exclude<Kind, "health-check">, number[]> = {
  registration: [300, 1000, 1000],
  "sign-in": [300, 1500, 1500],
  "verify-operation": [1000, 3000, 3000],
  "step-up": [300, 1000, 1000],
};
const RESULTS = new URL("RESULTS.md", new URL("../../bench/", import.meta.url));

const log = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

async function main(): Promise<void> {
  const host = machine(); // load average before anything of ours runs
  const startedAt = new Date();
  const t0 = performance.now();
  const tag = randomBytes(3).toString("hex");
  const tablePrefix = `bench-${tag}-`;

  log("starting DynamoDB Local");
  const dynamo = await startEmbeddedDynamoDb();
  const cleanups: (() => Promise<unknown> | void)[] = [() => dynamo.stop()];
  try {
    const store = createDynamoClient({ endpoint: dynamo.endpoint, region: "us-east-1", localCredentials: true });
    cleanups.unshift(() => store.destroy());
    await createTables(store, tableNames(tablePrefix));
    const proxy = await startDynamoProxy(dynamo.endpoint);
    cleanups.unshift(() => proxy.close());

    log("starting the service (dist/main.js)");
    const service = await startServiceProcess(proxy.endpoint, tablePrefix);
    cleanups.unshift(() => service.stop());
    const probe = { servicePid: service.pid, javaPid: findPid(["-port", new URL(dynamo.endpoint).port]), proxy };
    const ceremonies = new Ceremonies(service.address);
    cleanups.unshift(() => ceremonies.close());

    log(`registering ${POOL_SIZE} users (also warms DynamoDB Local's JVM and the service's JIT)`);
    const pool = await registerPool(ceremonies, POOL_SIZE, tag);
    for (const kind of ["sign-in", "verify-operation"] as const) {
      await runScenario(ceremonies, probe, pool, kind, 16, scaled(1000), tag);
    }

    log("floors");
    const floors = {
      rawVerify: await rawEs256Verify(scaled(20_000)),
      simpleWebAuthnVerify: await simpleWebAuthnVerify(scaled(2000)),
      echo: await runScenario(ceremonies, probe, pool, "health-check", 16, scaled(5000), tag),
      store: await storeFloors(store, { calls: scaled(4000), writes: scaled(4000), alone: scaled(500) }),
    };

    const scenarios: ScenarioResult[] = [];
    for (const [kind, counts] of Object.entries(COUNTS) as [Kind, number[]][]) {
      for (const [i, concurrency] of CONCURRENCIES.entries()) {
        log(`${kind} at ${concurrency} in flight`);
        scenarios.push(await runScenario(ceremonies, probe, pool, kind, concurrency, scaled(counts[i]!), tag));
      }
    }
    log("FinishAuthentication alone");
    const finishAlone = await finishAuthenticationAlone(ceremonies, probe, pool, 16);

    const run: BenchRun = {
      machine: host,
      loadAtEnd: readFileSync("/proc/loadavg", "utf8").trim(),
      startedAt,
      durationS: (performance.now() - t0) / 1000,
      commit: gitCommit(),
      tablePrefix,
      poolSize: POOL_SIZE,
      floors,
      scenarios,
      finishAlone,
    };
    await writeFile(RESULTS, markdown(run));
    process.stdout.write(`${summary(run)}\n\nwritten: bench/RESULTS.md\n`);
  } finally {
    for (const cleanup of cleanups) await cleanup();
  }
}

function gitCommit(): string {
  const git = (...args: string[]) => execFileSync("git", args, { encoding: "utf8" }).trim();
  const dirty = git("status", "--porcelain", "--untracked-files=no").length > 0;
  return `${git("rev-parse", "--short", "HEAD")}${dirty ? " (with uncommitted changes in the work tree)" : ""}`;
}

await main();
