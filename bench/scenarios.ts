import { runLoad, type LoadResult } from "./load.js";
import { measure, type Measured, type Probe } from "./measure.js";
import type { BenchUser, Ceremonies } from "./ceremonies.js";

export type Kind = "registration" | "sign-in" | "verify-operation" | "step-up" | "health-check";

/** What one ceremony of each kind calls. */
export const RPCS: Record<Kind, string> = {
  registration: "BeginRegistration + FinishRegistration",
  "sign-in": "BeginAuthentication + FinishAuthentication",
  "verify-operation": "VerifyOperation (session token only)",
  "step-up": "VerifyOperation → STEP_UP_REQUIRED, assertion → VerifyOperation (single use)",
  "health-check": "grpc.health.v1.Health/Check",
};

export interface ScenarioResult {
  readonly kind: Kind;
  readonly concurrency: number;
  readonly m: Measured<LoadResult>;
  /** FinishAuthentication's own latencies (ms, ascending), for sign-ins. */
  readonly finishLatenciesMs?: number[];
}

/**
 * One kind of ceremony at one concurrency. Pool users are split among workers (user i mod pool
 * size, the pool a multiple of the concurrency), so no user has two ceremonies in flight and each
 * authenticator's signature counter reaches the service in order.
 */
export async function runScenario(
  ceremonies: Ceremonies,
  probe: Probe,
  pool: readonly BenchUser[],
  kind: Kind,
  concurrency: number,
  count: number,
  tag: string,
): Promise<ScenarioResult> {
  if (pool.length % concurrency !== 0) throw new Error(`pool of ${pool.length} is no multiple of ${concurrency}`);
  const user = (i: number) => pool[i % pool.length]!;
  const finishLatenciesMs: number[] = [];
  const ops: Record<Kind, (i: number) => Promise<void>> = {
    registration: async (i) => void (await ceremonies.register(`reg-${tag}-c${concurrency}-${i}`)),
    "sign-in": async (i) => {
      const assertion = await ceremonies.beginSignIn(user(i));
      finishLatenciesMs.push(await ceremonies.finishSignIn(user(i), assertion));
    },
    "verify-operation": (i) => ceremonies.verifyOperation(user(i)),
    "step-up": (i) => ceremonies.stepUp(user(i)),
    "health-check": () => ceremonies.healthCheck(),
  };
  const m = await measure(probe, () => runLoad(count, concurrency, ops[kind]));
  finishLatenciesMs.sort((a, b) => a - b);
  return { kind, concurrency, m, ...(kind === "sign-in" ? { finishLatenciesMs } : {}) };
}

/**
 * FinishAuthentication on its own: every pool user begins a sign-in and signs (not measured), then
 * all finishes run at `concurrency` while the service's CPU and DynamoDB requests are counted.
 */
export async function finishAuthenticationAlone(
  ceremonies: Ceremonies,
  probe: Probe,
  pool: readonly BenchUser[],
  concurrency: number,
): Promise<Measured<LoadResult>> {
  const assertions: string[] = [];
  const begun = await runLoad(pool.length, 16, async (i) => void (assertions[i] = await ceremonies.beginSignIn(pool[i]!)));
  if (begun.failures > 0) throw new Error(`BeginAuthentication failed: ${begun.firstFailure}`);
  return measure(probe, () =>
    runLoad(pool.length, concurrency, async (i) => void (await ceremonies.finishSignIn(pool[i]!, assertions[i]!))),
  );
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
