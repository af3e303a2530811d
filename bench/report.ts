import { BENCH_LIST_CACHE_TTL_SECONDS } from "./service-process.js";
import { readRequests, totalRequests } from "./dynamo-proxy.js";
import type { LocalCost, StoreFloors } from "./floors.js";
import { perSecond, quantile, type LoadResult } from "./load.js";
import type { Counted, Measured } from "./measure.js";
import type { Pinning } from "./pinning.js";
import type { Machine } from "./proc-stats.js";
import { JIT_WARM_UP_CALLS, RPCS, type FloorResult, type Kind, type ScenarioResult } from "./scenarios.js";
import { roundRatios, type FinishRound, type FinishRounds } from "./finish-rounds.js";
import { median, type ClientCost, type DynamoClientFloors } from "./sdk-floors.js";

export interface BenchRun {
  readonly machine: Machine;
  readonly loadAtEnd: string;
  readonly startedAt: Date;
  readonly durationS: number;
  readonly commit: string;
  readonly tablePrefix: string;
  readonly poolSize: number;
  /** BENCH_SCALE: every count was multiplied by it. */
  readonly scale: number;
  readonly floors: {
    readonly rawVerify: LocalCost;
    readonly simpleWebAuthnVerify: LocalCost;
    /** The service's preflight + fast verifier on the same kind of assertion. */
    readonly serviceVerify: LocalCost;
    /** A bare grpc-js server (own process) answering Health/Check, at 1, 8 and 64 in flight. */
    readonly bareGrpc: readonly FloorResult[];
    /** Client CPU per GetItem: default client, the service's, the signed-request floor. */
    readonly dynamoClients: DynamoClientFloors;
    readonly store: StoreFloors;
  };
  readonly scenarios: readonly ScenarioResult[];
  /** FinishAuthentication alone over gRPC and over Connect JSON on HTTP/1.1, in rounds with its floors. */
  readonly finish: FinishRounds;
  readonly pinning: Pinning;
  /** bench/SOAK.md as the last `npm run soak` wrote it, if it exists. */
  readonly soak: string | undefined;
}

export interface Target {
  readonly name: string;
  readonly measured: string;
  readonly limit: string;
  readonly pass: boolean | undefined;
}

const ok = (m: Measured<LoadResult>) => m.result.latenciesMs.length;
const perOk = (m: Measured<LoadResult>, value: number) => value / ok(m);
const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : "–");
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "–");
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "–");
const mib = (bytes: number) => f0(bytes / 2 ** 20);

const cpuPerCall = (m: Measured<LoadResult>) => perOk(m, m.serviceCpuUs);
const p50 = (m: Measured<LoadResult>) => quantile(m.result.latenciesMs, 0.5);

/** The bare-gRPC floor at `concurrency` (undefined: not measured at it). */
function floorAt(run: BenchRun, concurrency: number): FloorResult | undefined {
  return run.floors.bareGrpc.find((f) => f.concurrency === concurrency);
}

function scenarioAt(run: BenchRun, kind: Kind, concurrency: number): ScenarioResult | undefined {
  return run.scenarios.find((s) => s.kind === kind && s.concurrency === concurrency);
}

/** Per successful ceremony of a counted pass. */
const perCounted = (c: Counted, value: number) => value / c.ok;

/** FinishAuthentication's DynamoDB requests, from the finish-alone phase. */
function finishRequests(run: BenchRun): number {
  return perCounted(run.finish.grpc.counted, totalRequests(run.finish.grpc.counted.dynamo));
}

/** Requests on `op table` per successful ceremony. */
function requestsOn(c: Counted, op: string, table: string): number {
  return perCounted(c, c.dynamo.byTable[`${op} ${table}`] ?? 0);
}

/** `value` ≤ `factor` × `floor`, both in µs (CPU) or ms (latency). */
function withinFloor(name: string, value: number, floor: number, factor: number, unit: "µs" | "ms"): Target {
  const n = unit === "µs" ? f0 : f2;
  return {
    name,
    measured: `${n(value)} ${unit} (${f2(value / floor)} × floor)`,
    limit: `${factor} × ${n(floor)} ${unit} = ${n(factor * floor)} ${unit}`,
    pass: Number.isFinite(value) && Number.isFinite(floor) ? value <= factor * floor : undefined,
  };
}

const HOT_PATH: [Kind, string][] = [
  ["verify-operation", "VerifyOperation (session token only)"],
  ["ext-authz", "ext_authz Check (bearer token only)"],
];

/** The issue-15 targets: the hot path and health against the bare-gRPC floor of the same run. */
function transportTargets(run: BenchRun): Target[] {
  const cpuAt = (kind: Kind, c: number) => {
    const s = scenarioAt(run, kind, c);
    return s ? cpuPerCall(s.m) : NaN;
  };
  const floorCpu = (c: number) => {
    const f = floorAt(run, c);
    return f ? cpuPerCall(f.m) : NaN;
  };
  const targets: Target[] = [];
  for (const [kind, label] of HOT_PATH) {
    for (const c of [8, 64]) {
      targets.push(withinFloor(`${label}: service CPU per call at ${c} in flight ≤ 3 × the bare-gRPC floor's`, cpuAt(kind, c), floorCpu(c), 3, "µs"));
    }
    const alone = scenarioAt(run, kind, 1);
    const floorAlone = floorAt(run, 1);
    targets.push(withinFloor(`${label}: p50 one at a time ≤ 2 × the bare-gRPC floor's`, alone ? p50(alone.m) : NaN, floorAlone ? p50(floorAlone.m) : NaN, 2, "ms"));
  }
  for (const c of [8, 64]) {
    targets.push(withinFloor(`dynauthn's grpc.health.v1.Health/Check: service CPU per call at ${c} in flight ≤ 1.5 × the bare-gRPC floor's`, cpuAt("health-check", c), floorCpu(c), 1.5, "µs"));
  }
  return targets;
}

const FINISH_VIA = { grpc: "over gRPC (grpc-js client)", connect: "over Connect JSON on HTTP/1.1 (connect-node client)" } as const;
const finishUs = (k: keyof typeof FINISH_VIA) => (r: FinishRound) => (k === "grpc" ? r.grpcUs : r.connectUs);
const roundMedian = (run: BenchRun, f: (r: FinishRound) => number) => median(run.finish.rounds.map(f));

/** A round's budget: verify + the finish's DynamoDB calls × GetItem + the bare-gRPC call. */
const finishBudget = (run: BenchRun) => (r: FinishRound) => r.verifyUs + finishRequests(run) * r.getItemUs + r.bareUs;
/** Not in the budget: what the finish's own writes, the verify and the bare-gRPC call alone cost, against it. */
const floorOnlyShare = (run: BenchRun) => roundRatios(run.finish.rounds, (r) => r.verifyUs + r.writesUs + r.bareUs, finishBudget(run));

/** What the rounds say of the budget itself: the finish's own writes alone against three GetItems. */
function finishWithOwnWrites(run: BenchRun): string {
  const writes = roundRatios(run.finish.rounds, (r) => r.writesUs, (r) => finishRequests(run) * r.getItemUs);
  const bound = floorOnlyShare(run);
  return (
    `A finish's own three writes alone (the service's store modules and client, bench process, ${run.finish.inFlight} in flight) cost ${f2(writes.median)} × ` +
    `${f2(finishRequests(run))} GetItems in the same rounds (rounds: ${writes.ratios.map(f2).join(", ")}); ` +
    `those writes + the raw verify + the bare-gRPC call, with nothing of the service's own, are already ${f2(bound.median)} × the budget ` +
    `(rounds: ${bound.ratios.map(f2).join(", ")}; the limit is 1.3 ×).`
  );
}

/**
 * FinishAuthentication's service CPU against what it cannot avoid: one ES256 verify, its DynamoDB
 * calls at the service's own client's CPU per call, and one bare-gRPC call (at the same concurrency),
 * each round against the floors measured right after it; the verdict is the median round's.
 */
function finishTargets(run: BenchRun): Target[] {
  const calls = finishRequests(run);
  const budget = finishBudget(run);
  return (Object.keys(FINISH_VIA) as (keyof typeof FINISH_VIA)[]).map((k) => {
    const { ratios, median: ratio } = roundRatios(run.finish.rounds, finishUs(k), budget);
    return {
      name: `FinishAuthentication service CPU ${FINISH_VIA[k]} ≤ 1.3 × (raw ES256 verify + its DynamoDB calls × the service client's CPU per GetItem + the bare-gRPC floor); median of ${ratios.length} rounds, each against the floors measured right after it`,
      measured: `${f0(roundMedian(run, finishUs(k)))} µs = ${f2(ratio)} × budget (rounds: ${ratios.map(f2).join(", ")})`,
      limit: `1.3 × (${f0(roundMedian(run, (r) => r.verifyUs))} + ${f2(calls)} × ${f0(roundMedian(run, (r) => r.getItemUs))} + ${f0(roundMedian(run, (r) => r.bareUs))}) = ${f0(1.3 * roundMedian(run, budget))} µs (medians)`,
      pass: Number.isFinite(ratio) ? ratio <= 1.3 : undefined,
    };
  });
}

const timesSigned = (c: ClientCost) => `${f0(c.us)} µs, ${f2(c.timesSigned)} × signed`;

function dynamoClientTarget(run: BenchRun): Target {
  const { service, defaultClient, signed, rounds } = run.floors.dynamoClients;
  return {
    name: `The service's DynamoDB client (@aws-sdk/client-dynamodb, createDynamoClient): client CPU per GetItem ≤ 2 × the signed-request floor (@smithy/signature-v4 over node:http keep-alive); median of ${rounds} interleaved rounds' ratios`,
    measured: `${timesSigned(service)} (default DynamoDBClient: ${timesSigned(defaultClient)})`,
    limit: `2 × ${f0(signed.us)} µs`,
    pass: Number.isFinite(service.timesSigned) ? service.timesSigned <= 2 : undefined,
  };
}

export function targets(run: BenchRun): Target[] {
  const signIns = run.scenarios.filter((s) => s.kind === "sign-in");
  const credentials = `${run.tablePrefix}credentials`;

  const worst = (f: (s: ScenarioResult) => number) => Math.max(...signIns.map(f));
  const requests = worst((s) => perCounted(s.counted, totalRequests(s.counted.dynamo)));
  const reads = worst((s) => perCounted(s.counted, readRequests(s.counted.dynamo)));
  const writeUnits = worst((s) => perCounted(s.counted, s.counted.dynamo.writeUnits));

  const alone = signIns.find((s) => s.concurrency === 1);
  const finishP99 = alone?.finishLatenciesMs ? quantile(alone.finishLatenciesMs, 0.99) : NaN;
  const finishP50 = alone?.finishLatenciesMs ? quantile(alone.finishLatenciesMs, 0.5) : NaN;
  const roundTrips = run.floors.store.finishWritesAlone.latenciesMs;

  return [
    ...transportTargets(run),
    ...finishTargets(run),
    dynamoClientTarget(run),
    {
      name: "DynamoDB requests per sign-in (Begin + Finish) ≤ 3 (worst concurrency)",
      measured: f2(requests),
      limit: "3",
      pass: requests <= 3,
    },
    {
      name: "DynamoDB reads per sign-in = 0 with warm caches (worst concurrency)",
      measured: `${f2(reads)} (credential GetItem ${f2(worst((s) => requestsOn(s.counted, "GetItem", credentials)))}, list Query ${f2(worst((s) => requestsOn(s.counted, "Query", credentials)))})`,
      limit: "0",
      pass: reads === 0,
    },
    {
      name: "Write capacity units per sign-in ≤ 3 (worst concurrency)",
      measured: f2(writeUnits),
      limit: "3",
      pass: Number.isFinite(writeUnits) ? writeUnits <= 3 : undefined,
    },
    {
      name: "FinishAuthentication p99 at 1 in flight ≤ 2 × its store round trips measured alone (same percentile: its three writes in sequence, 1 in flight, no service)",
      measured: `${f2(finishP99)} ms (p50 ${f2(finishP50)} ms)`,
      limit: `2 × ${f2(quantile(roundTrips, 0.99))} ms = ${f2(2 * quantile(roundTrips, 0.99))} ms (p50: 2 × ${f2(quantile(roundTrips, 0.5))} = ${f2(2 * quantile(roundTrips, 0.5))} ms)`,
      pass: Number.isFinite(finishP99) ? finishP99 <= 2 * quantile(roundTrips, 0.99) : undefined,
    },
    soakTarget(run.soak),
  ];
}

/** The soak is its own run (`npm run soak`); its last verdict is quoted from bench/SOAK.md. */
function soakTarget(soak: string | undefined): Target {
  const verdict = soak && /^\*\*(PASS|FAIL) (.+)\*\*$/m.exec(soak);
  const when = soak && /^- date: (\S+), .*commit: (.+)$/m.exec(soak);
  return {
    name: "RSS and heap flat (± 10 %) over a 100k-ceremony soak",
    measured: verdict && when ? `bench/SOAK.md (${when[1]}, commit ${when[2]}): ${verdict[2]}` : "not part of this run; `npm run soak` has not written bench/SOAK.md",
    limit: "± 10 %",
    pass: verdict ? verdict[1] === "PASS" : undefined,
  };
}

const verdict = (t: Target) => (t.pass === undefined ? "not measured" : t.pass ? "PASS" : "FAIL");

/** The bare-gRPC floor's CPU per call at `concurrency` (NaN: not measured at it). */
function bareCpu(run: BenchRun, concurrency: number): number {
  const f = floorAt(run, concurrency);
  return f ? cpuPerCall(f.m) : NaN;
}

function scenarioRow(run: BenchRun, s: ScenarioResult): string {
  const { m } = s;
  const r = m.result;
  const cpu = perOk(m, m.serviceCpuUs);
  const lat = (q: number) => f2(quantile(r.latenciesMs, q));
  return [
    s.kind,
    s.concurrency,
    `${ok(m)}${r.failures ? ` (${r.failures} failed)` : ""}`,
    f0(perSecond(r)),
    `${lat(0.5)} / ${lat(0.99)} / ${lat(0.999)}`,
    f0(cpu),
    `${f1(cpu / run.floors.rawVerify.cpuUs)} / ${f1(cpu / run.floors.simpleWebAuthnVerify.cpuUs)} / ${f1(cpu / bareCpu(run, s.concurrency))}`,
    f2(perCounted(s.counted, totalRequests(s.counted.dynamo))),
    `${f2(perCounted(s.counted, s.counted.dynamo.readUnits))} / ${f2(perCounted(s.counted, s.counted.dynamo.writeUnits))}`,
    f0(perOk(m, m.javaCpuUs)),
    f0(perOk(m, m.benchCpuUs)),
    mib(m.servicePeakRss),
    cacheHits(run, s),
  ].join(" | ");
}

/**
 * Cache hit ratios, derived from the store requests: each ceremony looks each cache up once, and
 * every miss costs exactly one request (credential: GetItem; allowCredentials list: Query
 * by-user; session revocation: Query audit).
 */
function cacheHits(run: BenchRun, s: ScenarioResult): string {
  const hit = (op: string, table: string) => `${f0(100 * (1 - requestsOn(s.counted, op, `${run.tablePrefix}${table}`)))} %`;
  if (s.kind === "sign-in" || s.kind === "step-up") return `credential ${hit("GetItem", "credentials")}, list ${hit("Query", "credentials")}`;
  if (s.kind === "verify-operation") return `revocation ${hit("Query", "audit")}`;
  return "–";
}

/** Requests per ceremony by operation and table (table names without the run's prefix). */
function breakdown({ dynamo, ok: n }: Counted, prefix: string): string {
  return Object.entries(dynamo.byTable)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, v]) => `${key.replaceAll(prefix, "")} ${f2(v / n)}`)
    .join(", ");
}

export function markdown(run: BenchRun): string {
  const { machine: mc, floors } = run;
  const store = floors.store;
  const clients = floors.dynamoClients;
  const lines = [
    "# dynauthn benchmark results",
    "",
    "Written by `npm run bench` (bench/run.ts); do not edit by hand. Reproduce with `npm run bench`.",
    "",
    "## Run",
    "",
    `- date: ${run.startedAt.toISOString()}, ${f0(run.durationS)} s, BENCH_SCALE=${run.scale} (every count × ${run.scale})`,
    `- commit: ${run.commit}`,
    `- machine: ${mc.cpus} CPUs (${mc.cpuModel}), ${f1(mc.memoryGiB)} GiB memory; Node ${mc.node}`,
    `- load average (1/5/15 min, runnable/total, last pid) at start: \`${mc.loadAvg}\`, at end: \`${run.loadAtEnd}\``,
    `  (a 1-minute load above ≈ 0.5 before the run means other work shared the ${mc.cpus} cores; numbers are then pessimistic)`,
    "- set-up: DynamoDB Local (java, in memory) ← the service `node dist/main.js` (own process, \"timed\") ← grpc-js clients (bench process, one HTTP/2 channel) with software authenticators (real P-256 keys and signatures); FinishAuthentication also from a connect-node Connect JSON client over HTTP/1.1 (keep-alive). The bare-gRPC floor is a grpc-js server (bench/bare-grpc-server.ts, own process, the same protobuf-es schemas) answering grpc.health.v1.Health/Check to the same grpc-js client; its CPU is read from /proc like the service's, and the hot-path RPCs run next to it at each concurrency. A second replica (\"counted\", same tables and signing key) reaches DynamoDB Local through a counting HTTP proxy in the bench process; every scenario runs on the timed replica for CPU, latency, throughput and memory, then the same ceremonies again on the counted one for DynamoDB requests, capacity units and cache hits, so the proxy's hop and CPU are in no timed number, as they are in no floor.",
    `- CPUs (BENCH_CPUS): ${Object.keys(run.pinning).length > 0 ? Object.entries(run.pinning).map(([role, cpus]) => `${role} ${cpus}`).join(", ") : "not pinned: the timed service, DynamoDB Local and the bench process share every CPU"}`,
    `- ${run.poolSize} users registered before the sign-in scenarios,  then warmed by sign-ins and VerifyOperations; every RPC (and the floor) is called ${JIT_WARM_UP_CALLS} times, unmeasured, before it is timed (the JIT). The service runs with CREDENTIAL_CACHE_TTL_SECONDS=${BENCH_LIST_CACHE_TTL_SECONDS} (default 30) so that the allowCredentials lists stay warm between a user's sign-ins at every concurrency: a user not seen within the TTL costs BeginAuthentication one Query ("list Query"). Service CPU is utime+stime of its process from /proc; DynamoDB requests and capacity units are counted by the proxy (ReturnConsumedCapacity TOTAL) on the counted replica.`,
    "",
    "## Targets",
    "",
    "| target | measured | limit | result |",
    "|---|---|---|---|",
    ...targets(run).map((t) => `| ${t.name} | ${t.measured} | ${t.limit} | **${verdict(t)}** |`),
    "",
    "## Floors (same run)",
    "",
    "| floor | value |",
    "|---|---|",
    `| raw ES256 verify, node:crypto, imported key | ${f1(floors.rawVerify.cpuUs)} µs CPU (${f1(floors.rawVerify.wallUs)} µs wall) per op |`,
    `| @simplewebauthn/server verifyAuthenticationResponse, one at a time | ${f1(floors.simpleWebAuthnVerify.cpuUs)} µs CPU (${f1(floors.simpleWebAuthnVerify.wallUs)} µs wall) per op |`,
    `| the service's verification (preflight + fast verifier, key parsed once), one at a time | ${f1(floors.serviceVerify.cpuUs)} µs CPU (${f1(floors.serviceVerify.wallUs)} µs wall) per op |`,
    ...floors.bareGrpc.map(
      (f) =>
        `| the bare-gRPC floor: a grpc-js server (own process) answering Health/Check, ${f.concurrency} in flight | ${f1(cpuPerCall(f.m))} µs CPU per call, ${f0(perSecond(f.m.result))} calls/s, p50 ${f2(p50(f.m))} ms, p99 ${f2(quantile(f.m.result.latenciesMs, 0.99))} ms |`,
    ),
    `| DynamoDB GetItem, client CPU (bench process, ${clients.inFlight} in flight, ${clients.calls} calls a round, median of ${clients.rounds} interleaved rounds): the signed-request floor (@smithy/signature-v4, one signer, node:http keep-alive, JSON parsed) | ${f1(clients.signed.us)} µs per call |`,
    `| the same through the service's client (createDynamoClient) | ${timesSigned(clients.service)} |`,
    `| the same through a default \`new DynamoDBClient({ region, endpoint, credentials })\` | ${timesSigned(clients.defaultClient)} |`,
    `| DynamoDB Local GetItem through the service's client, 32 in flight | ${f0(perSecond(store.getItem))} calls/s, p50 ${f2(quantile(store.getItem.latenciesMs, 0.5))} ms |`,
    `| DynamoDB Local conditional PutItem (attribute_not_exists), 32 in flight through the SDK | ${f0(perSecond(store.conditionalWrites))} writes/s, p50 ${f2(quantile(store.conditionalWrites.latenciesMs, 0.5))} ms |`,
    `| the same, 1 in flight (a store round trip alone) | p50 ${f2(quantile(store.conditionalWriteAlone.latenciesMs, 0.5))} ms, p99 ${f2(quantile(store.conditionalWriteAlone.latenciesMs, 0.99))} ms |`,
    `| FinishAuthentication's three round trips alone, in sequence, 1 in flight (marker put-if-absent, conditional counter UpdateItem, event PutItem) | p50 ${f2(quantile(store.finishWritesAlone.latenciesMs, 0.5))} ms, p99 ${f2(quantile(store.finishWritesAlone.latenciesMs, 0.99))} ms |`,
    "",
    "## Scenarios",
    "",
    "Latency is one whole ceremony as the client sees it (for sign-in: Begin, the authenticator's signature, Finish). Ratios divide the service CPU per ceremony by the raw ES256 verify / verifyAuthenticationResponse / bare-gRPC (same number in flight) floors. Java and bench CPU show where the rest of the machine went.",
    "",
    "| ceremony | in flight | ok | per s | p50 / p99 / p999 ms | service CPU µs | × verify / × swa / × bare gRPC | DynamoDB req | RCU / WCU | DynamoDB Local CPU µs | bench CPU µs | service peak RSS MiB | cache hits |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...run.scenarios.map((s) => `| ${scenarioRow(run, s)} |`),
    "",
    ...run.scenarios.map((s) => `- ${s.kind} (${RPCS[s.kind]}) at ${s.concurrency}: ${breakdown(s.counted, run.tablePrefix) || "none"}${s.counted.dynamo.errors ? `; ${s.counted.dynamo.errors} DynamoDB error responses` : ""}${s.m.result.firstFailure ? `; first failure: ${s.m.result.firstFailure}` : ""}`),
    "",
    "## FinishAuthentication alone",
    "",
    `Each round: all ${run.poolSize} pool users begin a sign-in (over gRPC) and sign (not measured), then the finishes run at ${run.finish.inFlight} in flight over gRPC; the same over Connect JSON on HTTP/1.1; then, right after, the floors of the budget: the bare-gRPC floor and a GetItem through the service's client (bench process) at ${run.finish.inFlight} in flight, and the raw ES256 verify. A warm-up round goes first and is not kept. CPU µs per finish or call:`,
    "",
    "| round | Finish gRPC | Finish Connect | raw verify | GetItem | bare gRPC | budget (verify + calls × GetItem + bare) | gRPC / budget | Connect / budget | own writes alone (not in the budget) | load at end |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
    ...run.finish.rounds.map((r, i) => {
      const budget = finishBudget(run)(r);
      return `| ${i + 1} | ${f0(r.grpcUs)} | ${f0(r.connectUs)} | ${f0(r.verifyUs)} | ${f0(r.getItemUs)} | ${f0(r.bareUs)} | ${f0(budget)} | ${f2(r.grpcUs / budget)} | ${f2(r.connectUs / budget)} | ${f0(r.writesUs)} | \`${r.load}\` |`;
    }),
    "",
    "The last round's finishes, and one counted pass of each (DynamoDB requests):",
    "",
    ...(Object.keys(FINISH_VIA) as (keyof typeof FINISH_VIA)[]).map((k) => {
      const { m, counted } = run.finish[k];
      return `- ${FINISH_VIA[k]}: ${ok(m)} finishes, ${f0(cpuPerCall(m))} µs service CPU per finish, ${f0(perSecond(m.result))} finishes/s, p50 ${f2(p50(m))} ms, p99 ${f2(quantile(m.result.latenciesMs, 0.99))} ms; DynamoDB (counted service): ${breakdown(counted, run.tablePrefix)}.`;
    }),
    "",
    finishWithOwnWrites(run),
  ];
  return `${lines.join("\n")}\n`;
}

/** A few lines for the terminal. */
export function summary(run: BenchRun): string {
  const rows = run.scenarios.map((s) => {
    const r = s.m.result;
    return `${s.kind.padEnd(17)} c=${String(s.concurrency).padEnd(3)} ${f0(perSecond(r)).padStart(6)}/s  p50 ${f2(quantile(r.latenciesMs, 0.5)).padStart(7)} ms  p99 ${f2(quantile(r.latenciesMs, 0.99)).padStart(7)} ms  cpu ${f0(perOk(s.m, s.m.serviceCpuUs)).padStart(6)} µs  ddb ${f2(perCounted(s.counted, totalRequests(s.counted.dynamo)))}${r.failures ? `  FAILED ${r.failures}` : ""}`;
  });
  const checks = targets(run).map((t) => `${verdict(t).padEnd(12)} ${t.name}: ${t.measured} (limit ${t.limit})`);
  return [...rows, "", ...checks].join("\n");
}
