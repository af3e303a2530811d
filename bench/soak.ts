/**
 * `npm run soak`: SOAK_CEREMONIES (default 100 000) sign-ins at 64 in flight against the built
 * service, sampling the service's RSS every 100 ms. V8's heap grows and shrinks between
 * collections, so RSS is a sawtooth; what a leak raises is its floor. The floor of each chunk (its
 * lowest sample, just after a collection) must stay within ± 10 % of the second chunk's: the
 * first is the warm-up (JIT, caches and heap filling up from start), reported but not judged; each
 * chunk's peak is reported beside it. The service's heap is not visible from
 * outside its process, so it is judged through RSS. Writes bench/SOAK.md.
 */
import { writeFile } from "node:fs/promises";
import { log, startHarness } from "./harness.js";
import { perSecond } from "./load.js";
import { gitCommit, machine, memory } from "./proc-stats.js";
import { runScenario } from "./scenarios.js";

const TOTAL = Number(process.env.SOAK_CEREMONIES ?? "100000");
const CHUNK = 5000;
const SAMPLE_MS = 100;
const TOLERANCE = 0.1;

const SOAK = new URL("../../bench/SOAK.md", import.meta.url);
const startedAt = new Date();
const mc = machine();
const harness = await startHarness(512);
try {
  const samples: number[] = [];
  const rows: string[] = [];
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  let failures = 0;
  // One warm-up chunk, then TOTAL judged sign-ins.
  for (let done = 0; done < CHUNK + TOTAL; done += CHUNK) {
    const count = Math.min(CHUNK, CHUNK + TOTAL - done);
    let floor = Infinity;
    let peak = 0;
    const sampler = setInterval(() => {
      const { rss } = memory(harness.probe.servicePid);
      floor = Math.min(floor, rss);
      peak = Math.max(peak, rss);
    }, SAMPLE_MS);
    const chunk = await runScenario(harness.ceremonies, harness.probe, harness.pool, "sign-in", 64, count, harness.tag).finally(() =>
      clearInterval(sampler),
    );
    failures += chunk.m.result.failures;
    samples.push(floor);
    rows.push(`| ${done + count} | ${perSecond(chunk.m.result).toFixed(0)} | ${mib(floor)} | ${mib(peak)} | ${chunk.m.result.failures} |`);
    log(`${done + count} sign-ins, ${perSecond(chunk.m.result).toFixed(0)}/s, service RSS floor ${mib(floor)} MiB, peak ${mib(peak)} MiB`);
  }
  const [, baseline, ...later] = samples; // samples[0] is the warm-up
  const drift = Math.max(...later.map((s) => Math.abs(s - baseline!) / baseline!));
  const pass = drift <= TOLERANCE && failures === 0;
  const verdict =
    `${pass ? "PASS" : "FAIL"} service RSS floor over ${TOTAL} sign-ins: baseline ${mib(baseline!)} MiB (after the ${CHUNK}-sign-in warm-up), ` +
    `largest drift ${(drift * 100).toFixed(1)} % (limit ${TOLERANCE * 100} %), ${failures} failed sign-ins`;
  await writeFile(
    SOAK,
    [
      "# dynauthn soak results",
      "",
      "Written by `npm run soak` (bench/soak.ts); do not edit by hand.",
      "",
      `- date: ${startedAt.toISOString()}, ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s; commit: ${gitCommit()}`,
      `- machine: ${mc.cpus} CPUs (${mc.cpuModel}), ${mc.memoryGiB.toFixed(1)} GiB memory; Node ${mc.node}; load average at start \`${mc.loadAvg}\``,
      `- ${TOTAL} sign-ins (BeginAuthentication + FinishAuthentication) at 64 in flight over gRPC by 512 users; service RSS sampled every ${SAMPLE_MS} ms, judged by each ${CHUNK}-sign-in chunk's floor (its lowest sample, after a collection; a leak raises it), peaks reported`,
      "",
      `**${verdict}**`,
      "",
      "| sign-ins done | sign-ins/s (chunk) | service RSS floor MiB | service RSS peak MiB | failed |",
      "|---|---|---|---|---|",
      ...rows,
      "",
    ].join("\n"),
  );
  process.stdout.write(`${verdict}\nwritten: bench/SOAK.md\n`);
  process.exitCode = pass ? 0 : 1;
} finally {
  await harness.close();
}
