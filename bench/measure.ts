import { countsBetween, type DynamoCounts, type DynamoProxy } from "./dynamo-proxy.js";
import { cpuMicros, memory } from "./proc-stats.js";

/** The processes whose cost a measurement attributes. */
export interface Probe {
  readonly servicePid: number;
  /** DynamoDB Local's java, when found. */
  readonly javaPid: number | undefined;
  readonly proxy: DynamoProxy;
}

export interface Measured<T> {
  readonly result: T;
  /** CPU time the service process used during `fn`, µs. */
  readonly serviceCpuUs: number;
  readonly javaCpuUs: number;
  /** The bench process itself (clients, authenticators, proxy). */
  readonly benchCpuUs: number;
  readonly dynamo: DynamoCounts;
  readonly serviceRss: number;
  readonly servicePeakRss: number;
}

/** Runs `fn` and attributes the CPU time and DynamoDB requests each process spent meanwhile. */
export async function measure<T>(probe: Probe, fn: () => Promise<T>): Promise<Measured<T>> {
  const java = () => (probe.javaPid === undefined ? NaN : cpuMicros(probe.javaPid));
  const before = { service: cpuMicros(probe.servicePid), java: java(), bench: process.cpuUsage(), dynamo: probe.proxy.snapshot() };
  const result = await fn();
  const bench = process.cpuUsage(before.bench);
  const mem = memory(probe.servicePid);
  return {
    result,
    serviceCpuUs: cpuMicros(probe.servicePid) - before.service,
    javaCpuUs: java() - before.java,
    benchCpuUs: bench.user + bench.system,
    dynamo: countsBetween(before.dynamo, probe.proxy.snapshot()),
    serviceRss: mem.rss,
    servicePeakRss: mem.peakRss,
  };
}
