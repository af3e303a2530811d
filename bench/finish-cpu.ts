/**
 * `npm run bench:finish`: only the "FinishAuthentication alone" phase of the bench, repeated
 * FINISH_ROUNDS times (default 5) on one service, over FINISH_VIA (grpc, the default, or connect-json-http1), printing service CPU per finish for each round
 * and the median, since other work on the 2 cores makes a single round noisy. FINISH_PROFILE=<dir>
 * runs the service under `node --cpu-prof` and leaves its .cpuprofile there when it exits.
 */
import { readFileSync } from "node:fs";
import { log, startHarness } from "./harness.js";
import { quantile } from "./load.js";
import type { FinishVia } from "./ceremonies.js";
import { cpuPerCall } from "./measure.js";
import { finishTimed } from "./scenarios.js";

const POOL_SIZE = 512;
const ROUNDS = Number(process.env.FINISH_ROUNDS ?? "5");
const PROFILE_DIR = process.env.FINISH_PROFILE;
const VIA = (process.env.FINISH_VIA ?? "grpc") as FinishVia;

const loadavg = () => readFileSync("/proc/loadavg", "utf8").trim();

async function main(): Promise<void> {
  const loadBefore = loadavg();
  const nodeArgs = PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  const harness = await startHarness(POOL_SIZE, nodeArgs);
  const perFinish: number[] = [];
  try {
    await finishTimed(harness, 16, VIA); // warm-up
    for (let round = 1; round <= ROUNDS; round++) {
      const m = await finishTimed(harness, 16, VIA);
      const cpu = cpuPerCall(m, "FinishAuthentication");
      perFinish.push(cpu);
      log(`round ${round}: ${cpu.toFixed(0)} µs service CPU per finish, p50 ${quantile(m.result.latenciesMs, 0.5).toFixed(2)} ms, load ${loadavg()}`);
    }
  } finally {
    await harness.close();
  }
  const sorted = [...perFinish].sort((a, b) => a - b);
  process.stdout.write(
    `FinishAuthentication service CPU per finish: median ${quantile(sorted, 0.5).toFixed(0)} µs ` +
      `(rounds: ${perFinish.map((c) => c.toFixed(0)).join(", ")}); load before ${loadBefore}, after ${loadavg()}\n`,
  );
}

await main();
