/**
 * `npm run soak`: SOAK_CEREMONIES (default 100 000) sign-ins at 64 in flight against the built
 * service, sampling the service's RSS every chunk. RSS must stay within ± 10 % of its value after
 * the first chunk (the warm-up). The service's heap is not visible from outside its process, so
 * only RSS is judged here.
 */
import { log, startHarness } from "./harness.js";
import { perSecond } from "./load.js";
import { memory } from "./proc-stats.js";
import { runScenario } from "./scenarios.js";

const TOTAL = Number(process.env.SOAK_CEREMONIES ?? "100000");
const CHUNK = 5000;
const TOLERANCE = 0.1;

const harness = await startHarness(512);
try {
  const samples: number[] = [];
  let failures = 0;
  for (let done = 0; done < TOTAL; done += CHUNK) {
    const count = Math.min(CHUNK, TOTAL - done);
    const chunk = await runScenario(harness.ceremonies, harness.probe, harness.pool, "sign-in", 64, count, harness.tag);
    failures += chunk.m.result.failures;
    samples.push(memory(harness.probe.servicePid).rss);
    log(`${done + count} sign-ins, ${perSecond(chunk.m.result).toFixed(0)}/s, service RSS ${(samples.at(-1)! / 2 ** 20).toFixed(0)} MiB`);
  }
  const baseline = samples[0]!;
  const drift = Math.max(...samples.map((s) => Math.abs(s - baseline) / baseline));
  const pass = drift <= TOLERANCE && failures === 0;
  process.stdout.write(
    `${pass ? "PASS" : "FAIL"} service RSS over ${TOTAL} sign-ins: baseline ${(baseline / 2 ** 20).toFixed(0)} MiB, ` +
      `largest drift ${(drift * 100).toFixed(1)} % (limit ${TOLERANCE * 100} %), ${failures} failed sign-ins\n`,
  );
  process.exitCode = pass ? 0 : 1;
} finally {
  await harness.close();
}
