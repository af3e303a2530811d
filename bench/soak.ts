/**
 * `npm run soak`: SOAK_CEREMONIES (default 100 000) sign-ins at 64 in flight against the built
 * service, in chunks of 5000. The service runs with `--inspect` (loopback, random port): at the end
 * of each chunk the soak forces a full collection through the DevTools protocol and reads V8's live
 * heap, which is what a leak raises; RSS is sampled every 100 ms meanwhile (a sawtooth between
 * collections: its floor and peak per chunk are reported) and read again right after the forced
 * collection. The first chunk is the warm-up (JIT, caches and heap filling up from start),
 * reported but not judged; every later chunk's live heap and RSS after collection must stay within
 * ± 10 % of the second chunk's. Writes bench/SOAK.md.
 */
import { writeFile } from "node:fs/promises";
import { log, startHarness } from "./harness.js";
import { Inspector } from "./inspector.js";
import { perSecond } from "./load.js";
import { gitCommit, machine, memory } from "./proc-stats.js";
import { timedPass } from "./scenarios.js";

const TOTAL = Number(process.env.SOAK_CEREMONIES ?? "100000");
const CHUNK = 5000;
const SAMPLE_MS = 100;
const TOLERANCE = 0.1;

interface Chunk {
  readonly done: number;
  readonly perSecond: number;
  readonly failures: number;
  readonly rssFloor: number;
  readonly rssPeak: number;
  /** After the forced full collection at the chunk's end. */
  readonly liveHeap: number;
  readonly rssAfterGc: number;
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

/** Largest relative distance of any judged chunk's value from the baseline chunk's (chunk 2). */
function drift(chunks: readonly Chunk[], value: (c: Chunk) => number): { baseline: number; drift: number } {
  const [, base, ...later] = chunks.map(value);
  return { baseline: base!, drift: Math.max(...later.map((v) => Math.abs(v - base!) / base!)) };
}

const SOAK = new URL("../../bench/SOAK.md", import.meta.url);
const startedAt = new Date();
const mc = machine();
const harness = await startHarness(512, ["--inspect=127.0.0.1:0"]);
const inspector = await Inspector.connect(harness.timed.inspectorUrl!);
try {
  const pid = harness.timed.probe.servicePid;
  const chunks: Chunk[] = [];
  for (let done = 0; done < CHUNK + TOTAL; done += CHUNK) {
    const count = Math.min(CHUNK, CHUNK + TOTAL - done);
    let rssFloor = Infinity;
    let rssPeak = 0;
    const sampler = setInterval(() => {
      const { rss } = memory(pid);
      rssFloor = Math.min(rssFloor, rss);
      rssPeak = Math.max(rssPeak, rss);
    }, SAMPLE_MS);
    const { m } = await timedPass(harness, "sign-in", 64, count).finally(() => clearInterval(sampler));
    const liveHeap = await inspector.liveHeapBytes();
    const chunk = { done: done + count, perSecond: perSecond(m.result), failures: m.result.failures, rssFloor, rssPeak, liveHeap, rssAfterGc: memory(pid).rss };
    chunks.push(chunk);
    log(`${chunk.done} sign-ins, ${chunk.perSecond.toFixed(0)}/s, live heap ${mib(liveHeap)} MiB, RSS after GC ${mib(chunk.rssAfterGc)} MiB (floor ${mib(rssFloor)}, peak ${mib(rssPeak)})`);
  }
  const failures = chunks.reduce((sum, c) => sum + c.failures, 0);
  const heap = drift(chunks, (c) => c.liveHeap);
  const rss = drift(chunks, (c) => c.rssAfterGc);
  const pass = heap.drift <= TOLERANCE && rss.drift <= TOLERANCE && failures === 0;
  const verdict =
    `${pass ? "PASS" : "FAIL"} over ${TOTAL} sign-ins after a ${CHUNK}-sign-in warm-up: live heap baseline ${mib(heap.baseline)} MiB, largest drift ${(heap.drift * 100).toFixed(1)} %; ` +
    `RSS after collection baseline ${mib(rss.baseline)} MiB, largest drift ${(rss.drift * 100).toFixed(1)} % (limit ${TOLERANCE * 100} % each); ${failures} failed sign-ins`;
  await writeFile(
    SOAK,
    [
      "# dynauthn soak results",
      "",
      "Written by `npm run soak` (bench/soak.ts); do not edit by hand.",
      "",
      `- date: ${startedAt.toISOString()}, ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s; commit: ${gitCommit()}`,
      `- machine: ${mc.cpus} CPUs (${mc.cpuModel}), ${mc.memoryGiB.toFixed(1)} GiB memory; Node ${mc.node}; load average at start \`${mc.loadAvg}\``,
      `- ${TOTAL} sign-ins (BeginAuthentication + FinishAuthentication) at 64 in flight over gRPC by 512 users, after a ${CHUNK}-sign-in warm-up chunk that is not judged. At each chunk's end a full collection is forced in the service (DevTools protocol, \`HeapProfiler.collectGarbage\`) and its live heap (\`Runtime.getHeapUsage\`) and RSS are read; RSS is also sampled every ${SAMPLE_MS} ms during the chunk (floor and peak: V8's sawtooth).`,
      "",
      `**${verdict}**`,
      "",
      "| sign-ins done | sign-ins/s (chunk) | live heap after GC MiB | RSS after GC MiB | RSS floor MiB | RSS peak MiB | failed |",
      "|---|---|---|---|---|---|---|",
      ...chunks.map((c) => `| ${c.done} | ${c.perSecond.toFixed(0)} | ${mib(c.liveHeap)} | ${mib(c.rssAfterGc)} | ${mib(c.rssFloor)} | ${mib(c.rssPeak)} | ${c.failures} |`),
      "",
    ].join("\n"),
  );
  process.stdout.write(`${verdict}\nwritten: bench/SOAK.md\n`);
  process.exitCode = pass ? 0 : 1;
} finally {
  inspector.close();
  await harness.close();
}
