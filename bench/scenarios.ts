import { runLoad, type LoadResult } from "./load.js";
import { count, measure, type Counted, type Measured } from "./measure.js";
import type { BenchUser, Ceremonies, FinishVia } from "./ceremonies.js";
import type { Harness } from "./harness.js";

export type Kind = "registration" | "sign-in" | "verify-operation" | "ext-authz" | "step-up" | "health-check";

/** What one ceremony of each kind calls. */
export const RPCS: Record<Kind, string> = {
  registration: "BeginRegistration + FinishRegistration",
  "sign-in": "BeginAuthentication + FinishAuthentication",
  "verify-operation": "VerifyOperation (session token only)",
  "ext-authz": "envoy.service.auth.v3.Authorization/Check (bearer session token only)",
  "step-up": "VerifyOperation → STEP_UP_REQUIRED, assertion → VerifyOperation (single use)",
  "health-check": "grpc.health.v1.Health/Check",
};

export interface ScenarioResult {
  readonly kind: Kind;
  readonly concurrency: number;
  /** The timed service: CPU, latency, throughput, memory. */
  readonly m: Measured<LoadResult>;
  /** The same ceremonies against the counted service: DynamoDB requests and capacity units. */
  readonly counted: Counted;
  /** FinishAuthentication's own latencies (ms, ascending) on the timed service, for sign-ins. */
  readonly finishLatenciesMs?: number[];
}

/** The ceremony of each kind, on one service; sign-ins push FinishAuthentication's latency to `finishes`. */
function ceremonyOps(h: Harness, ceremonies: Ceremonies, pass: string, concurrency: number, finishes?: number[]): Record<Kind, (i: number) => Promise<void>> {
  const user = (i: number) => h.pool[i % h.pool.length]!;
  return {
    registration: async (i) => void (await ceremonies.register(`reg-${h.tag}-${pass}-c${concurrency}-${i}`)),
    "sign-in": async (i) => {
      const assertion = await ceremonies.beginSignIn(user(i));
      const ms = await ceremonies.finishSignIn(user(i), assertion);
      finishes?.push(ms);
    },
    "verify-operation": (i) => ceremonies.verifyOperation(user(i)),
    "ext-authz": (i) => ceremonies.extAuthzCheck(user(i)),
    "step-up": (i) => ceremonies.stepUp(user(i)),
    "health-check": () => ceremonies.healthCheck(),
  };
}

/**
 * One kind of ceremony at one concurrency, `count` times on the timed service only. Pool users are
 * split among workers (user i mod pool size, the pool a multiple of the concurrency), so no user
 * has two ceremonies in flight and each authenticator's signature counter reaches the services in
 * order.
 */
export async function timedPass(h: Harness, kind: Kind, concurrency: number, ceremonyCount: number): Promise<Omit<ScenarioResult, "counted">> {
  if (h.pool.length % concurrency !== 0) throw new Error(`pool of ${h.pool.length} is no multiple of ${concurrency}`);
  const finishLatenciesMs: number[] = [];
  const ops = ceremonyOps(h, h.timed.ceremonies, "t", concurrency, finishLatenciesMs);
  const m = await measure(h.timed.probe, () => runLoad(ceremonyCount, concurrency, ops[kind]));
  finishLatenciesMs.sort((a, b) => a - b);
  return { kind, concurrency, m, ...(kind === "sign-in" ? { finishLatenciesMs } : {}) };
}

/** The timed pass, then the same ceremonies on the counted service (same pattern, so the same cache hits). */
export async function runScenario(h: Harness, kind: Kind, concurrency: number, ceremonyCount: number): Promise<ScenarioResult> {
  const timed = await timedPass(h, kind, concurrency, ceremonyCount);
  const ops = ceremonyOps(h, h.counted.ceremonies, "c", concurrency);
  const counted = await count(h.counted.proxy, () => runLoad(ceremonyCount, concurrency, ops[kind]));
  return { ...timed, counted };
}

/** Calls made of each RPC before it is timed, so that the JIT has compiled its path. */
export const JIT_WARM_UP_CALLS = 1000;

/**
 * JIT_WARM_UP_CALLS ceremonies of `kind` (8 in flight), not measured, on each service: the timed
 * one for its JIT, the counted one so that its caches (session revocation) are as warm as the
 * timed one's and its request counts tell the timed pass's.
 */
export async function warmUpKind(h: Harness, kind: Kind): Promise<void> {
  for (const [pass, service] of [["wt", h.timed], ["wc", h.counted]] as const) {
    const warm = await runLoad(JIT_WARM_UP_CALLS, 8, ceremonyOps(h, service.ceremonies, pass, 8)[kind]);
    if (warm.failures > 0) throw new Error(`${kind} warm-up failed: ${warm.firstFailure}`);
  }
}

/** The bare-gRPC floor at one concurrency: the floor process's CPU per call, latency, throughput. */
export interface FloorResult {
  readonly concurrency: number;
  readonly m: Measured<LoadResult>;
}

/** `count` trivial calls to the bare-gRPC floor at `concurrency`. */
export async function floorPass(h: Harness, concurrency: number, count: number): Promise<FloorResult> {
  const m = await measure(h.floor.probe, () => runLoad(count, concurrency, () => h.floor.check()));
  if (m.result.failures > 0) throw new Error(`bare-gRPC floor failed: ${m.result.firstFailure}`);
  return { concurrency, m };
}

/** JIT_WARM_UP_CALLS trivial calls to the bare-gRPC floor, not measured. */
export async function warmUpFloor(h: Harness): Promise<void> {
  await runLoad(JIT_WARM_UP_CALLS, 8, () => h.floor.check());
}

/** Every pool user signs in and verifies an operation once on each service: caches warm, JIT hot. */
export async function warmUp(h: Harness): Promise<void> {
  for (const service of [h.timed, h.counted]) {
    await runLoad(h.pool.length, 16, async (i) => {
      const user = h.pool[i]!;
      await service.ceremonies.finishSignIn(user, await service.ceremonies.beginSignIn(user));
      await service.ceremonies.verifyOperation(user);
    });
  }
}

/** Every pool user begins a sign-in (over gRPC) and signs; then all finishes run at `concurrency`, `via` one protocol. */
async function finishAll<T>(
  ceremonies: Ceremonies,
  pool: readonly BenchUser[],
  concurrency: number,
  via: FinishVia,
  around: (fn: () => Promise<LoadResult>) => Promise<T>,
): Promise<T> {
  const assertions: string[] = [];
  const begun = await runLoad(pool.length, 16, async (i) => void (assertions[i] = await ceremonies.beginSignIn(pool[i]!)));
  if (begun.failures > 0) throw new Error(`BeginAuthentication failed: ${begun.firstFailure}`);
  return around(() => runLoad(pool.length, concurrency, async (i) => void (await ceremonies.finishSignIn(pool[i]!, assertions[i]!, via))));
}

/** A timed pass of the pool's finishes (CPU, latency) and a counted one (DynamoDB requests). */
export interface FinishAlone {
  readonly m: Measured<LoadResult>;
  readonly counted: Counted;
}

/** One pass of the pool's finishes on the timed service, its CPU measured. */
export function finishTimed(h: Harness, concurrency: number, via: FinishVia): Promise<Measured<LoadResult>> {
  return finishAll(h.timed.ceremonies, h.pool, concurrency, via, (fn) => measure(h.timed.probe, fn));
}

/** One pass of the pool's finishes on the counted service, its DynamoDB requests counted. */
export function finishCounted(h: Harness, concurrency: number, via: FinishVia): Promise<Counted> {
  return finishAll(h.counted.ceremonies, h.pool, concurrency, via, (fn) => count(h.counted.proxy, fn));
}

/** Registers `size` users (16 in flight), giving each a session token by one sign-in. */
export async function registerPool(ceremonies: Ceremonies, size: number, tag: string): Promise<BenchUser[]> {
  const pool: BenchUser[] = [];
  const registered = await runLoad(size, 16, async (i) => void (pool[i] = await ceremonies.register(`pool-${tag}-${i}`)));
  if (registered.failures > 0) throw new Error(`pool registration failed: ${registered.firstFailure}`);
  const signedIn = await runLoad(size, 16, async (i) => {
    await ceremonies.finishSignIn(pool[i]!, await ceremonies.beginSignIn(pool[i]!));
  });
  if (signedIn.failures > 0) throw new Error(`pool sign-in failed: ${signedIn.firstFailure}`);
  return pool;
}
