import { execFileSync } from "node:child_process";

/** Which CPUs each process of a bench run may use, from BENCH_CPUS (e.g. "service=0-1,store=2-5,bench=6-7"). */
export interface Pinning {
  readonly service?: string;
  readonly store?: string;
  readonly bench?: string;
}

const ROLE = /^(service|store|bench)=(\d+(?:-\d+)?(?:;\d+(?:-\d+)?)*)$/;

/**
 * On a machine with cores to spare, giving the service, DynamoDB Local and the load generator
 * their own cores keeps them from competing, so the throughput and latency targets measure the
 * service rather than the sharing. CPU lists use taskset's syntax with ";" between ranges.
 */
export function parsePinning(spec: string | undefined): Pinning {
  if (!spec) return {};
  const pinning: Record<string, string> = {};
  for (const part of spec.split(",")) {
    const match = ROLE.exec(part.trim());
    if (!match) throw new Error(`BENCH_CPUS: "${part}" is not role=cpus (roles: service, store, bench; cpus like 0-1 or 0;2)`);
    pinning[match[1]!] = match[2]!.replaceAll(";", ",");
  }
  return pinning;
}

/** Binds every thread of `pid` to `cpus` (taskset -a); a no-op without a CPU list. */
export function pin(pid: number | undefined, cpus: string | undefined): void {
  if (pid === undefined || cpus === undefined) return;
  execFileSync("taskset", ["-a", "-p", "-c", cpus, String(pid)], { stdio: "ignore" });
}
