import { countsBetween, type DynamoCounts, type DynamoProxy } from "./dynamo-proxy.js";
import type { LoadResult } from "./load.js";
import { cpuMicros, memory } from "./proc-stats.js";

/** The processes whose cost a measurement attributes. */
export interface Probe {
  readonly servicePid: number;
  /** DynamoDB Local's java, when found. */
  readonly javaPid: number | undefined;
}

export interface Measured<T> {
  readonly result: T;
  /** CPU time the service process used during `fn`, µs. */
  readonly serviceCpuUs: number;
  readonly javaCpuUs: number;
  /** The bench process itself (clients and authenticators). */
  readonly benchCpuUs: number;
  readonly serviceRss: number;
  readonly servicePeakRss: number;
}

/** What `fn` asked of DynamoDB through the proxy, and how many ceremonies succeeded. */
export interface Counted {
  readonly ok: number;
  readonly dynamo: DynamoCounts;
}

/** The measured process's CPU per call (µs) of a pass in which every call had to succeed. */
export function cpuPerCall(m: Measured<LoadResult>, what: string): number {
  if (m.result.failures > 0) throw new Error(`${what} failed: ${m.result.firstFailure}`);
  return m.serviceCpuUs / m.result.latenciesMs.length;
}

/** Runs `fn` and attributes the CPU time each process spent meanwhile. */
export async function measure<T>(probe: Probe, fn: () => Promise<T>): Promise<Measured<T>> {
  const java = () => (probe.javaPid === undefined ? NaN : cpuMicros(probe.javaPid));
  const before = { service: cpuMicros(probe.servicePid), java: java(), bench: process.cpuUsage() };
  const result = await fn();
  const bench = process.cpuUsage(before.bench);
  const mem = memory(probe.servicePid);
  return {
    result,
    serviceCpuUs: cpuMicros(probe.servicePid) - before.service,
    javaCpuUs: java() - before.java,
    benchCpuUs: bench.user + bench.system,
    serviceRss: mem.rss,
    servicePeakRss: mem.peakRss,
  };
}

/** Runs `fn` (ceremonies against the service behind the proxy) and counts its DynamoDB requests. */
export async function count(proxy: DynamoProxy, fn: () => Promise<{ latenciesMs: readonly number[] }>): Promise<Counted> {
  const before = proxy.snapshot();
  const result = await fn();
  return { ok: result.latenciesMs.length, dynamo: countsBetween(before, proxy.snapshot()) };
}
