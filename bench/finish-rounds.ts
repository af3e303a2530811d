import { rawEs256Verify } from "./floors.js";
import { finishWritesCall } from "./finish-writes.js";
import { log, type Harness } from "./harness.js";
import type { LoadResult } from "./load.js";
import { cpuPerCall, type Measured } from "./measure.js";
import { clientCpuPerCall, floorGetItem, loadavg, median } from "./sdk-floors.js";
import { finishCounted, finishTimed, floorPass, type FinishAlone } from "./scenarios.js";

/** One round: FinishAuthentication over each protocol, then its floors, back to back. */
export interface FinishRound {
  /** Service CPU per finish, µs. */
  readonly grpcUs: number;
  readonly connectUs: number;
  /** Raw ES256 verify, bench process, µs CPU per op. */
  readonly verifyUs: number;
  /** GetItem through the service's client (createDynamoClient), bench process, µs CPU per call. */
  readonly getItemUs: number;
  /** The bare-gRPC floor's CPU per call at the finishes' concurrency, µs. */
  readonly bareUs: number;
  /** Not in the budget: a finish's own three writes through the service's store and client, bench process, µs CPU per finish's worth. */
  readonly writesUs: number;
  readonly load: string;
}

export interface FinishRounds {
  readonly inFlight: number;
  readonly rounds: readonly FinishRound[];
  /** The last round's finishes (latency, throughput) and one counted pass of each (DynamoDB requests). */
  readonly grpc: FinishAlone;
  readonly connect: FinishAlone;
}

export interface FinishRoundCounts {
  readonly rounds: number;
  readonly inFlight: number;
  readonly floorCalls: number;
  readonly verifies: number;
}

/**
 * FinishAuthentication's CPU target compares a finish with floors (raw verify, the service client's
 * GetItem, the bare-gRPC call). On these shared cores the same code's CPU per finish moves 2 × with
 * the host's load within minutes, so floors measured at another moment of the run decide nothing:
 * each round here measures the finishes and then every floor of their budget, a few seconds apart,
 * and the target is the median of the rounds' own ratios. The GetItem and the bare-gRPC call run at
 * the finishes' concurrency. Each round also costs the finish's own three writes alone (not part of
 * the budget; they tell how much of it the writes alone take). Round 0 is a warm-up (JIT,
 * connections) and is not kept.
 */
export async function finishRounds(h: Harness, counts: FinishRoundCounts): Promise<FinishRounds> {
  const get = floorGetItem();
  const writes = await finishWritesCall(h);
  const rounds: FinishRound[] = [];
  let last: { grpc: Measured<LoadResult>; connect: Measured<LoadResult> } | undefined;
  for (let round = 0; round <= counts.rounds; round++) {
    const grpc = await finishTimed(h, counts.inFlight, "grpc");
    const connect = await finishTimed(h, counts.inFlight, "connect-json-http1");
    const bare = await floorPass(h, counts.inFlight, counts.floorCalls);
    const getItemUs = await clientCpuPerCall(() => h.store.send(get), counts.floorCalls, counts.inFlight);
    const verify = await rawEs256Verify(counts.verifies);
    const writesUs = await clientCpuPerCall(writes, counts.floorCalls / 4, counts.inFlight);
    const r: FinishRound = {
      grpcUs: cpuPerCall(grpc, "FinishAuthentication over gRPC"),
      connectUs: cpuPerCall(connect, "FinishAuthentication over Connect"),
      verifyUs: verify.cpuUs,
      getItemUs,
      bareUs: cpuPerCall(bare.m, "the bare-gRPC floor"),
      writesUs,
      load: loadavg(),
    };
    log(
      `finish round ${round}${round === 0 ? " (warm-up)" : ""}: gRPC ${r.grpcUs.toFixed(0)} µs, Connect ${r.connectUs.toFixed(0)} µs; ` +
        `verify ${r.verifyUs.toFixed(0)}, GetItem ${r.getItemUs.toFixed(0)}, bare gRPC ${r.bareUs.toFixed(0)}, own writes ${r.writesUs.toFixed(0)} µs; load ${r.load}`,
    );
    if (round > 0) rounds.push(r);
    last = { grpc, connect };
  }
  return {
    inFlight: counts.inFlight,
    rounds,
    grpc: { m: last!.grpc, counted: await finishCounted(h, counts.inFlight, "grpc") },
    connect: { m: last!.connect, counted: await finishCounted(h, counts.inFlight, "connect-json-http1") },
  };
}


/** Each round's finish CPU over `budget(round)`, and their median. */
export function roundRatios(rounds: readonly FinishRound[], finishUs: (r: FinishRound) => number, budget: (r: FinishRound) => number) {
  const ratios = rounds.map((r) => finishUs(r) / budget(r));
  return { ratios, median: median(ratios) };
}
