/**
 * `npm run bench`: DynamoDB Local, a counting proxy, the built service as its own process, and
 * grpc-js clients with software authenticators; measures floors and ceremonies in one run and
 * writes bench/RESULTS.md. BENCH_SCALE (default 1) multiplies every count, for quick trial runs.
 */
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { rawEs256Verify, serviceVerify, simpleWebAuthnVerify, storeFloors } from "./floors.js";
import { log, startHarness } from "./harness.js";
import { gitCommit, machine } from "./proc-stats.js";
import { markdown, summary, type BenchRun } from "./report.js";
import { finishAuthenticationAlone, runScenario, warmUp, type Kind, type ScenarioResult } from "./scenarios.js";

const SCALE = Number(process.env.BENCH_SCALE ?? "1");
const scaled = (n: number) => Math.max(64, Math.round(n * SCALE));
/** A multiple of every concurrency (see runScenario). */
const POOL_SIZE = 512;
const CONCURRENCIES = [1, 16, 64];
/** Ceremonies per scenario at 1 / 16 / 64 in flight: about 2–4 minutes in all on 2 idle cores. */
const COUNTS: Record<Exclude<Kind, "health-check">, number[]> = {
  registration: [200, 1000, 1000],
  "sign-in": [300, 1500, 1500],
  "verify-operation": [1000, 3000, 3000],
  "step-up": [200, 1000, 1000],
};
const RESULTS = new URL("../../bench/RESULTS.md", import.meta.url);
const SOAK = new URL("../../bench/SOAK.md", import.meta.url);

async function main(): Promise<void> {
  const host = machine(); // load average before anything of ours runs
  const startedAt = new Date();
  const t0 = performance.now();
  const harness = await startHarness(POOL_SIZE);
  try {
    await warmUp(harness);

    log("floors");
    const floors = {
      rawVerify: await rawEs256Verify(scaled(20_000)),
      simpleWebAuthnVerify: await simpleWebAuthnVerify(scaled(2000)),
      serviceVerify: await serviceVerify(scaled(2000)),
      echo: await runScenario(harness, "health-check", 16, scaled(5000)),
      store: await storeFloors(harness.store, { calls: scaled(4000), writes: scaled(4000), alone: scaled(500) }),
    };

    const scenarios: ScenarioResult[] = [];
    for (const [kind, counts] of Object.entries(COUNTS) as [Kind, number[]][]) {
      for (const [i, concurrency] of CONCURRENCIES.entries()) {
        log(`${kind} at ${concurrency} in flight`);
        scenarios.push(await runScenario(harness, kind, concurrency, scaled(counts[i]!)));
      }
    }
    log("FinishAuthentication alone");
    const finishAlone = await finishAuthenticationAlone(harness, 16);

    const run: BenchRun = {
      machine: host,
      loadAtEnd: readFileSync("/proc/loadavg", "utf8").trim(),
      startedAt,
      durationS: (performance.now() - t0) / 1000,
      commit: gitCommit(),
      tablePrefix: harness.tablePrefix,
      poolSize: POOL_SIZE,
      scale: SCALE,
      floors,
      scenarios,
      finishAlone,
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
