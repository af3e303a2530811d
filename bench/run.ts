/**
 * `npm run bench`: DynamoDB Local, a counting proxy, the built service as its own process, a bare
 * grpc-js server as another (the bare-gRPC floor), and grpc-js clients with software
 * authenticators; measures floors and ceremonies in one run, reports the targets as ratios to the
 * floors of the same run, and writes bench/RESULTS.md. BENCH_SCALE (default 1) multiplies every
 * count, for quick trial runs (JIT warm-ups stay at 1000 calls per RPC).
 */
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { rawEs256Verify, serviceVerify, simpleWebAuthnVerify, storeFloors } from "./floors.js";
import { log, startHarness } from "./harness.js";
import { gitCommit, machine } from "./proc-stats.js";
import { markdown, summary, type BenchRun } from "./report.js";
import {
  floorPass,
  runScenario,
  warmUp,
  warmUpFloor,
  warmUpKind,
  type FloorResult,
  type Kind,
  type ScenarioResult,
} from "./scenarios.js";
import { finishRounds } from "./finish-rounds.js";
import { dynamoClientFloors } from "./sdk-floors.js";

const SCALE = Number(process.env.BENCH_SCALE ?? "1");
const scaled = (n: number) => Math.max(64, Math.round(n * SCALE));
/** A multiple of every concurrency (see runScenario). */
const POOL_SIZE = 512;
/** One at a time (latency floors), 8 and 64 in flight (CPU per call): where the issue-15 targets are set. */
const CONCURRENCIES = [1, 8, 64];
/**
 * Calls per pass at 1 / 8 / 64 in flight. The hot-path RPCs run next to the bare-gRPC floor, one
 * concurrency at a time, so that each ratio compares passes a few seconds apart on a shared machine.
 */
const HOT_PATH: Record<Extract<Kind, "verify-operation" | "ext-authz" | "health-check">, number[]> = {
  "verify-operation": [1000, 3000, 3000],
  "ext-authz": [1000, 3000, 3000],
  "health-check": [1000, 3000, 3000],
};
const FLOOR_COUNTS = [1000, 5000, 5000];
/** Ceremonies per scenario at 1 / 8 / 64 in flight: about 3–5 minutes in all on 2 idle cores. */
const CEREMONIES: Record<Extract<Kind, "registration" | "sign-in" | "step-up">, number[]> = {
  registration: [200, 1000, 1000],
  "sign-in": [300, 1500, 1500],
  "step-up": [200, 1000, 1000],
};
/** FinishAuthentication alone runs at this many in flight, in rounds with its floors at the same. */
const FINISH_IN_FLIGHT = 8;
const FINISH_ROUNDS = 5;
const SDK_ROUNDS = 5;
const RESULTS = new URL("../../bench/RESULTS.md", import.meta.url);
const SOAK = new URL("../../bench/SOAK.md", import.meta.url);

async function main(): Promise<void> {
  const host = machine(); // load average before anything of ours runs
  const startedAt = new Date();
  const t0 = performance.now();
  const harness = await startHarness(POOL_SIZE);
  try {
    await warmUp(harness);

    log("floors: verification, DynamoDB clients, store");
    const rawVerify = await rawEs256Verify(scaled(20_000));
    const simpleWebAuthn = await simpleWebAuthnVerify(scaled(2000));
    const ownVerify = await serviceVerify(scaled(2000));
    const dynamoClients = await dynamoClientFloors(harness.storeEndpoint, { calls: scaled(2000), rounds: SDK_ROUNDS, inFlight: 16 });
    const store = await storeFloors(harness.store, { calls: scaled(4000), writes: scaled(4000), alone: scaled(500) });

    log("hot path next to the bare-gRPC floor (each RPC warmed first)");
    await warmUpFloor(harness);
    for (const kind of Object.keys(HOT_PATH) as Kind[]) await warmUpKind(harness, kind);
    const bareGrpc: FloorResult[] = [];
    const scenarios: ScenarioResult[] = [];
    for (const [i, concurrency] of CONCURRENCIES.entries()) {
      log(`bare-gRPC floor at ${concurrency} in flight`);
      bareGrpc.push(await floorPass(harness, concurrency, scaled(FLOOR_COUNTS[i]!)));
      for (const [kind, counts] of Object.entries(HOT_PATH) as [Kind, number[]][]) {
        log(`${kind} at ${concurrency} in flight`);
        scenarios.push(await runScenario(harness, kind, concurrency, scaled(counts[i]!)));
      }
    }

    for (const [kind, counts] of Object.entries(CEREMONIES) as [Kind, number[]][]) {
      log(`${kind}: warm-up`);
      await warmUpKind(harness, kind);
      for (const [i, concurrency] of CONCURRENCIES.entries()) {
        log(`${kind} at ${concurrency} in flight`);
        scenarios.push(await runScenario(harness, kind, concurrency, scaled(counts[i]!)));
      }
    }
    log(`FinishAuthentication alone over gRPC and over Connect JSON on HTTP/1.1, each round followed by its floors (${FINISH_ROUNDS} rounds after a warm-up round)`);
    const finish = await finishRounds(harness, { rounds: FINISH_ROUNDS, inFlight: FINISH_IN_FLIGHT, floorCalls: scaled(4000), verifies: scaled(2000) });

    const run: BenchRun = {
      machine: host,
      loadAtEnd: readFileSync("/proc/loadavg", "utf8").trim(),
      startedAt,
      durationS: (performance.now() - t0) / 1000,
      commit: gitCommit(),
      tablePrefix: harness.tablePrefix,
      poolSize: POOL_SIZE,
      scale: SCALE,
      floors: { rawVerify, simpleWebAuthnVerify: simpleWebAuthn, serviceVerify: ownVerify, bareGrpc, dynamoClients, store },
      scenarios,
      finish,
      pinning: harness.pinning,
      soak: existsSync(SOAK) ? readFileSync(SOAK, "utf8") : undefined,
    };
    await writeFile(RESULTS, markdown(run));
    process.stdout.write(`${summary(run)}\n\nwritten: bench/RESULTS.md\n`);
  } finally {
    await harness.close();
  }
}

await main();
