import { performance } from "node:perf_hooks";

export interface LoadResult {
  readonly count: number;
  readonly concurrency: number;
  readonly wallMs: number;
  /** Latency of each successful operation, ms, sorted ascending. */
  readonly latenciesMs: number[];
  readonly failures: number;
  readonly firstFailure: string | undefined;
}

/**
 * Runs `op(i)` for i in [0, count) with `concurrency` workers; worker w takes i ≡ w (mod
 * concurrency), so an op that keys its state by i mod concurrency never overlaps itself.
 */
export async function runLoad(
  count: number,
  concurrency: number,
  op: (i: number) => Promise<void>,
): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let i = worker; i < count; i += concurrency) {
        const t0 = performance.now();
        try {
          await op(i);
          latenciesMs.push(performance.now() - t0);
        } catch (err) {
          failures += 1;
          firstFailure ??= err instanceof Error ? err.message : String(err);
        }
      }
    }),
  );
  const wallMs = performance.now() - started;
  latenciesMs.sort((a, b) => a - b);
  return { count, concurrency, wallMs, latenciesMs, failures, firstFailure };
}

/** The q-quantile (nearest rank) of ascending `sorted`. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function perSecond(r: LoadResult): number {
  return (r.latenciesMs.length * 1000) / r.wallMs;
}
