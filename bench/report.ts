import { BENCH_LIST_CACHE_TTL_SECONDS } from "./service-process.js";
import { readRequests, totalRequests } from "./dynamo-proxy.js";
import type { LocalCost, StoreFloors } from "./floors.js";
import { perSecond, quantile, type LoadResult } from "./load.js";
import type { Counted, Measured } from "./measure.js";
import type { Pinning } from "./pinning.js";
import type { Machine } from "./proc-stats.js";
import { RPCS, type ScenarioResult } from "./scenarios.js";

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
    /** Health/Check at 16 in flight: the service's CPU per trivial RPC. */
    readonly echo: ScenarioResult;
    readonly store: StoreFloors;
  };
  readonly scenarios: readonly ScenarioResult[];
  readonly finishAlone: { readonly m: Measured<LoadResult>; readonly counted: Counted };
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

/** Service CPU per trivial RPC on the same port and transport. */
function echoCpuUs(run: BenchRun): number {
  return perOk(run.floors.echo.m, run.floors.echo.m.serviceCpuUs);
}

/** Per successful ceremony of a counted pass. */
const perCounted = (c: Counted, value: number) => value / c.ok;

/** FinishAuthentication's DynamoDB requests, from the finish-alone phase. */
function finishRequests(run: BenchRun): number {
  return perCounted(run.finishAlone.counted, totalRequests(run.finishAlone.counted.dynamo));
}

/** Requests on `op table` per successful ceremony. */
function requestsOn(c: Counted, op: string, table: string): number {
  return perCounted(c, c.dynamo.byTable[`${op} ${table}`] ?? 0);
}

export function targets(run: BenchRun): Target[] {
  const signIns = run.scenarios.filter((s) => s.kind === "sign-in");
  const credentials = `${run.tablePrefix}credentials`;

  const finishCpu = perOk(run.finishAlone.m, run.finishAlone.m.serviceCpuUs);
  const cpuBudget = run.floors.rawVerify.cpuUs + finishRequests(run) * run.floors.store.sdkCallCpuUs + echoCpuUs(run);

  const worst = (f: (s: ScenarioResult) => number) => Math.max(...signIns.map(f));
  const requests = worst((s) => perCounted(s.counted, totalRequests(s.counted.dynamo)));
  const reads = worst((s) => perCounted(s.counted, readRequests(s.counted.dynamo)));
  const writeUnits = worst((s) => perCounted(s.counted, s.counted.dynamo.writeUnits));

  const best = signIns.reduce((a, b) => (perSecond(b.m.result) > perSecond(a.m.result) ? b : a));
  const writeRate = perSecond(run.floors.store.conditionalWrites);
  const bestRequests = perCounted(best.counted, totalRequests(best.counted.dynamo));
  const storeLimit = writeRate / bestRequests;

  const alone = signIns.find((s) => s.concurrency === 1);
  const finishP99 = alone?.finishLatenciesMs ? quantile(alone.finishLatenciesMs, 0.99) : NaN;
  const finishP50 = alone?.finishLatenciesMs ? quantile(alone.finishLatenciesMs, 0.5) : NaN;
  const roundTrips = run.floors.store.finishWritesAlone.latenciesMs;

  const verify64 = run.scenarios.find((s) => s.kind === "verify-operation" && s.concurrency === 64);
  const verifyP99 = verify64 ? quantile(verify64.m.result.latenciesMs, 0.99) : NaN;

  return [
    {
      name: "FinishAuthentication service CPU ≤ 1.5 × (raw ES256 verify + its DynamoDB calls × SDK call CPU + one echo RPC)",
      measured: `${f0(finishCpu)} µs`,
      limit: `1.5 × (${f0(run.floors.rawVerify.cpuUs)} + ${f2(finishRequests(run))} × ${f0(run.floors.store.sdkCallCpuUs)} + ${f0(echoCpuUs(run))}) = ${f0(1.5 * cpuBudget)} µs`,
      pass: finishCpu <= 1.5 * cpuBudget,
    },
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
      name: "Sign-ins/s ≥ 80 % of (conditional-write rate ÷ requests per sign-in)",
      measured: `${f0(perSecond(best.m.result))}/s (best, at ${best.concurrency} in flight)`,
      limit: `0.8 × ${f0(writeRate)} ÷ ${f2(bestRequests)} = ${f0(0.8 * storeLimit)}/s`,
      pass: perSecond(best.m.result) >= 0.8 * storeLimit,
    },
    {
      name: "FinishAuthentication p99 at 1 in flight ≤ 2 × its store round trips measured alone (same percentile: its three writes in sequence, 1 in flight, no service)",
      measured: `${f2(finishP99)} ms (p50 ${f2(finishP50)} ms)`,
      limit: `2 × ${f2(quantile(roundTrips, 0.99))} ms = ${f2(2 * quantile(roundTrips, 0.99))} ms (p50: 2 × ${f2(quantile(roundTrips, 0.5))} = ${f2(2 * quantile(roundTrips, 0.5))} ms)`,
      pass: Number.isFinite(finishP99) ? finishP99 <= 2 * quantile(roundTrips, 0.99) : undefined,
    },
    {
      name: "VerifyOperation (token only) p99 ≤ 5 ms at 64 in flight",
      measured: `${f2(verifyP99)} ms`,
      limit: "5 ms",
      pass: Number.isFinite(verifyP99) ? verifyP99 <= 5 : undefined,
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
    `${f1(cpu / run.floors.rawVerify.cpuUs)} / ${f1(cpu / run.floors.simpleWebAuthnVerify.cpuUs)} / ${f1(cpu / echoCpuUs(run))}`,
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
  const finish = run.finishAlone.m;
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
    "- set-up: DynamoDB Local (java, in memory) ← the service `node dist/main.js` (own process, \"timed\") ← grpc-js clients (bench process, one HTTP/2 channel) with software authenticators (real P-256 keys and signatures). A second replica (\"counted\", same tables and signing key) reaches DynamoDB Local through a counting HTTP proxy in the bench process; every scenario runs on the timed replica for CPU, latency, throughput and memory, then the same ceremonies again on the counted one for DynamoDB requests, capacity units and cache hits, so the proxy's hop and CPU are in no timed number, as they are in no floor.",
    `- CPUs (BENCH_CPUS): ${Object.keys(run.pinning).length > 0 ? Object.entries(run.pinning).map(([role, cpus]) => `${role} ${cpus}`).join(", ") : "not pinned: the timed service, DynamoDB Local and the bench process share every CPU"}`,
    `- ${run.poolSize} users registered before the sign-in scenarios, then warmed by sign-ins and VerifyOperations. The service runs with CREDENTIAL_CACHE_TTL_SECONDS=${BENCH_LIST_CACHE_TTL_SECONDS} (default 30) so that the allowCredentials lists stay warm between a user's sign-ins at every concurrency: a user not seen within the TTL costs BeginAuthentication one Query ("list Query"). Service CPU is utime+stime of its process from /proc; DynamoDB requests and capacity units are counted by the proxy (ReturnConsumedCapacity TOTAL) on the counted replica.`,
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
    `| trivial unary RPC (grpc.health.v1.Health/Check, 16 in flight, same port) | ${f1(echoCpuUs(run))} µs service CPU per RPC, ${f0(perSecond(floors.echo.m.result))} RPC/s, p50 ${f2(quantile(floors.echo.m.result.latenciesMs, 0.5))} ms |`,
    `| AWS SDK v3 GetItem, client CPU (bench process, 32 in flight) | ${f1(store.sdkCallCpuUs)} µs per call, ${f0(perSecond(store.getItem))} calls/s |`,
    `| DynamoDB Local conditional PutItem (attribute_not_exists), 32 in flight through the SDK | ${f0(perSecond(store.conditionalWrites))} writes/s, p50 ${f2(quantile(store.conditionalWrites.latenciesMs, 0.5))} ms |`,
    `| the same, 1 in flight (a store round trip alone) | p50 ${f2(quantile(store.conditionalWriteAlone.latenciesMs, 0.5))} ms, p99 ${f2(quantile(store.conditionalWriteAlone.latenciesMs, 0.99))} ms |`,
    `| FinishAuthentication's three round trips alone, in sequence, 1 in flight (marker put-if-absent, conditional counter UpdateItem, event PutItem) | p50 ${f2(quantile(store.finishWritesAlone.latenciesMs, 0.5))} ms, p99 ${f2(quantile(store.finishWritesAlone.latenciesMs, 0.99))} ms |`,
    "",
    "## Scenarios",
    "",
    "Latency is one whole ceremony as the client sees it (for sign-in: Begin, the authenticator's signature, Finish). Ratios divide the service CPU per ceremony by the raw ES256 verify / verifyAuthenticationResponse / echo RPC floors. Java and bench CPU show where the rest of the machine went.",
    "",
    "| ceremony | in flight | ok | per s | p50 / p99 / p999 ms | service CPU µs | × verify / × swa / × echo | DynamoDB req | RCU / WCU | DynamoDB Local CPU µs | bench CPU µs | service peak RSS MiB | cache hits |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...run.scenarios.map((s) => `| ${scenarioRow(run, s)} |`),
    "",
    ...run.scenarios.map((s) => `- ${s.kind} (${RPCS[s.kind]}) at ${s.concurrency}: ${breakdown(s.counted, run.tablePrefix) || "none"}${s.counted.dynamo.errors ? `; ${s.counted.dynamo.errors} DynamoDB error responses` : ""}${s.m.result.firstFailure ? `; first failure: ${s.m.result.firstFailure}` : ""}`),
    "",
    "## FinishAuthentication alone",
    "",
    `All ${run.poolSize} pool users began a sign-in and signed first (not measured); then the ${ok(finish)} finishes ran at ${finish.result.concurrency} in flight:`,
    `${f0(perOk(finish, finish.serviceCpuUs))} µs service CPU per finish, ${f0(perSecond(finish.result))} finishes/s, p50 ${f2(quantile(finish.result.latenciesMs, 0.5))} ms, p99 ${f2(quantile(finish.result.latenciesMs, 0.99))} ms; DynamoDB (counted service): ${breakdown(run.finishAlone.counted, run.tablePrefix)}.`,
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
