/**
 * `npm run bench:verify-op`: service CPU per VerifyOperation (session token only, requirement met)
 * against its floor in the same run, the same service's grpc.health.v1.Health/Check, both at
 * VERIFY_OP_IN_FLIGHT (default 8) from the bench's grpc-js client, interleaved for VERIFY_OP_ROUNDS
 * rounds (default 5) after warm-up; prints each round and the medians. The machine is shared, so
 * the ratio carries better than the µs. VERIFIED_TOKEN_CACHE_MAX_ENTRIES is passed to the service
 * (0 measures the service without its verified-token cache).
 */
import { readFileSync } from "node:fs";
import { log, startHarness } from "./harness.js";
import { quantile } from "./load.js";
import { timedPass, warmUp } from "./scenarios.js";

const POOL_SIZE = 64;
const CALLS = 2000;
const ROUNDS = Number(process.env.VERIFY_OP_ROUNDS ?? "5");
const IN_FLIGHT = Number(process.env.VERIFY_OP_IN_FLIGHT ?? "8");

const loadavg = () => readFileSync("/proc/loadavg", "utf8").trim();
const median = (xs: number[]) => quantile([...xs].sort((a, b) => a - b), 0.5);

async function main(): Promise<void> {
  const loadBefore = loadavg();
  const harness = await startHarness(POOL_SIZE);
  const verify: number[] = [];
  const health: number[] = [];
  try {
    await warmUp(harness);
    for (let round = 0; round <= ROUNDS; round++) {
      const perCall = async (kind: "verify-operation" | "health-check") => {
        const { m } = await timedPass(harness, kind, IN_FLIGHT, CALLS);
        if (m.result.failures > 0) throw new Error(`${kind} failed: ${m.result.firstFailure}`);
        return m.serviceCpuUs / m.result.latenciesMs.length;
      };
      const [v, h] = [await perCall("verify-operation"), await perCall("health-check")];
      if (round === 0) continue; // warm-up round
      verify.push(v);
      health.push(h);
      log(`round ${round}: VerifyOperation ${v.toFixed(0)} µs, Health/Check ${h.toFixed(0)} µs (× ${(v / h).toFixed(2)}), load ${loadavg()}`);
    }
  } finally {
    await harness.close();
  }
  const ratios = verify.map((v, i) => v / health[i]!);
  process.stdout.write(
    `service CPU per call at ${IN_FLIGHT} in flight, median of ${ROUNDS} rounds: VerifyOperation ${median(verify).toFixed(0)} µs, ` +
      `Health/Check ${median(health).toFixed(0)} µs, ratio ${median(ratios).toFixed(2)} (rounds: ${ratios.map((r) => r.toFixed(2)).join(", ")}); ` +
      `VERIFIED_TOKEN_CACHE_MAX_ENTRIES=${process.env.VERIFIED_TOKEN_CACHE_MAX_ENTRIES ?? "default"}; load before ${loadBefore}, after ${loadavg()}\n`,
  );
}

await main();
