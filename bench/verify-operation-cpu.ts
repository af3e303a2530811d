/**
 * `npm run bench:verify-op`: service CPU per VerifyOperation (session token only, requirement met),
 * per ext_authz Check (bearer token only) and per Health/Check of the same service, against the
 * bare-gRPC floor (a grpc-js server in its own process answering Health/Check), all at
 * VERIFY_OP_IN_FLIGHT (default 8) from the bench's grpc-js client, interleaved for VERIFY_OP_ROUNDS
 * rounds (default 5) after warm-up; prints each round and the medians of the per-round ratios to
 * the floor (the issue-15 targets: ≤ 3 × for the first two, ≤ 1.5 × for Health/Check). The machine
 * is shared, so the ratios carry better than the µs. VERIFIED_TOKEN_CACHE_MAX_ENTRIES is passed to
 * the service (0 measures the service without its verified-token cache). VERIFY_OP_KINDS (comma
 * separated) runs only those kinds; VERIFY_OP_PROFILE=<dir> runs the service under
 * `node --cpu-prof` and leaves its .cpuprofile there when it exits.
 */
import { log, startHarness } from "./harness.js";
import { cpuPerCall } from "./measure.js";
import { floorPass, timedPass, warmUp, warmUpFloor, warmUpKind, type Kind } from "./scenarios.js";
import { loadavg, median } from "./sdk-floors.js";

const POOL_SIZE = 64;
const CALLS = 2000;
const ROUNDS = Number(process.env.VERIFY_OP_ROUNDS ?? "5");
const IN_FLIGHT = Number(process.env.VERIFY_OP_IN_FLIGHT ?? "8");
const KINDS = (process.env.VERIFY_OP_KINDS ?? "verify-operation,ext-authz,health-check").split(",") as Kind[];
const PROFILE_DIR = process.env.VERIFY_OP_PROFILE;

async function main(): Promise<void> {
  const loadBefore = loadavg();
  const harness = await startHarness(POOL_SIZE, PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`] : []);
  const ratios: Record<string, number[]> = Object.fromEntries(KINDS.map((kind) => [kind, []]));
  try {
    await warmUp(harness);
    await warmUpFloor(harness);
    for (const kind of KINDS) await warmUpKind(harness, kind);
    for (let round = 1; round <= ROUNDS; round++) {
      const { m: floor } = await floorPass(harness, IN_FLIGHT, CALLS);
      const floorUs = cpuPerCall(floor, "the bare-gRPC floor");
      const line = [`bare-gRPC floor ${floorUs.toFixed(0)} µs`];
      for (const kind of KINDS) {
        const { m } = await timedPass(harness, kind, IN_FLIGHT, CALLS);
        const us = cpuPerCall(m, kind);
        ratios[kind]!.push(us / floorUs);
        line.push(`${kind} ${us.toFixed(0)} µs (× ${(us / floorUs).toFixed(2)})`);
      }
      log(`round ${round}: ${line.join(", ")}; load ${loadavg()}`);
    }
  } finally {
    await harness.close();
  }
  const medians = KINDS.map((kind) => `${kind} × ${median(ratios[kind]!).toFixed(2)} (rounds: ${ratios[kind]!.map((r) => r.toFixed(2)).join(", ")})`);
  process.stdout.write(
    `service CPU per call at ${IN_FLIGHT} in flight ÷ the bare-gRPC floor's, median of ${ROUNDS} rounds: ${medians.join("; ")}; ` +
      `VERIFIED_TOKEN_CACHE_MAX_ENTRIES=${process.env.VERIFIED_TOKEN_CACHE_MAX_ENTRIES ?? "default"}; load before ${loadBefore}, after ${loadavg()}\n`,
  );
}

await main();
