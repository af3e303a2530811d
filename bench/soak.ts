/**
 * `npm run soak`: SOAK_CEREMONIES (default 100 000) sign-ins at 64 in flight against the built
 * service, sampling the service's RSS every chunk. RSS must stay within ± 10 % of its value after
 * the first chunk (the warm-up). The service's heap is not visible from outside its process, so
 * only RSS is judged here (a growing heap shows in RSS). Writes bench/SOAK.md.
 */
import { writeFile } from "node:fs/promises";
import { log, startHarness } from "./harness.js";
import { perSecond } from "./load.js";
import { gitCommit, machine, memory } from "./proc-stats.js";
import { runScenario } from "./scenarios.js";

const TOTAL = Number(process.env.SOAK_CEREMONIES ?? "100000");
const CHUNK = 5000;
const TOLERANCE = 0.1;

const SOAK = new URL("../../bench/SOAK.md", import.meta.url);
const startedAt = new Date();
const mc = machine();
const harness = await startHarness(512);
try {
  const samples: number[] = [];
  const rows: string[] = [];
  let failures = 0;
  for (let done = 0; done < TOTAL; done += CHUNK) {
    const count = Math.min(CHUNK, TOTAL - done);
    const chunk = await runScenario(harness.ceremonies, harness.probe, harness.pool, "sign-in", 64, count, harness.tag);
    failures += chunk.m.result.failures;
    samples.push(memory(harness.probe.servicePid).rss);
    const row = `${done + count} sign-ins, ${perSecond(chunk.m.result).toFixed(0)}/s, service RSS ${(samples.at(-1)! / 2 ** 20).toFixed(0)} MiB`;
    rows.push(`| ${done + count} | ${perSecond(chunk.m.result).toFixed(0)} | ${(samples.at(-1)! / 2 ** 20).toFixed(1)} | ${chunk.m.result.failures} |`);
    log(row);
  }
  const baseline = samples[0]!;
  const drift = Math.max(...samples.map((s) => Math.abs(s - baseline) / baseline));
  const pass = drift <= TOLERANCE && failures === 0;
  const verdict =
    `${pass ? "PASS" : "FAIL"} service RSS over ${TOTAL} sign-ins: baseline ${(baseline / 2 ** 20).toFixed(0)} MiB, ` +
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
      `- ${TOTAL} sign-ins (BeginAuthentication + FinishAuthentication) at 64 in flight over gRPC by 512 users; service RSS sampled every ${CHUNK}`,
      "",
      `**${verdict}**`,
      "",
      "| sign-ins done | sign-ins/s (chunk) | service RSS MiB | failed |",
      "|---|---|---|---|",
      ...rows,
      "",
    ].join("\n"),
  );
  process.stdout.write(`${verdict}\nwritten: bench/SOAK.md\n`);
  process.exitCode = pass ? 0 : 1;
} finally {
  await harness.close();
}
