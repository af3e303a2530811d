/**
 * `npm run bench:sdk`: client CPU per DynamoDB GetItem (this process, SDK_IN_FLIGHT in flight,
 * default 16) for the default DynamoDBClient, the SDK's own settings alone (cacheMiddleware,
 * keep-alive), the service's client (createDynamoClient) and the floor under all of them (a request
 * signed with @smithy/signature-v4 over node:http keep-alive), against DynamoDB Local, interleaved
 * for SDK_ROUNDS rounds (default 7) after a warm-up round; prints each round and the medians with
 * their ratios to the floor. The machine is shared: the ratios carry better than the µs.
 * SDK_ONLY=<part of a name> runs that variant alone, e.g. under `node --cpu-prof` to profile it.
 * SDK_WRITES=1 adds FinishAuthentication's three writes through the service's client (floors.ts
 * finishWriteCommands), client CPU per write, measured the same way.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { startEmbeddedDynamoDb } from "../src/store/embedded-dynamodb.js";
import { log } from "./harness.js";
import { dynamoClients, interleaved, loadavg, median } from "./sdk-floors.js";

const CALLS = 2000;
const ROUNDS = Number(process.env.SDK_ROUNDS ?? "7");
const IN_FLIGHT = Number(process.env.SDK_IN_FLIGHT ?? "16");
const WRITES = process.env.SDK_WRITES === "1";

async function main(): Promise<void> {
  const loadBefore = loadavg();
  const db = await startEmbeddedDynamoDb();
  const clients = await dynamoClients(db.endpoint, "bench-sdk");
  const cached = new DynamoDBClient({
    region: clients.region,
    endpoint: db.endpoint,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    cacheMiddleware: true,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000, httpAgent: { keepAlive: true, maxSockets: 64 } },
  });
  const all = {
    "default DynamoDBClient": clients.calls.defaultClient,
    "cacheMiddleware + keep-alive only (the SDK's own options)": () => cached.send(clients.get),
    "service client (createDynamoClient)": clients.calls.service,
    ...(WRITES
      ? {
          "service client marker put-if-absent (FinishAuthentication write 1)": clients.writes.putIfAbsent,
          "service client counter update (write 2)": clients.writes.updateCounter,
          "service client event put (write 3)": clients.writes.putEvent,
        }
      : {}),
    "signed floor (@smithy/signature-v4 + node:http keep-alive)": clients.calls.signed,
  };
  const variants = Object.fromEntries(Object.entries(all).filter(([name]) => name.includes(process.env.SDK_ONLY ?? "")));
  let perCall: Record<string, number[]>;
  try {
    perCall = await interleaved(variants, {
      calls: CALLS,
      rounds: ROUNDS,
      inFlight: IN_FLIGHT,
      onRound: (round, us, load) =>
        log(`round ${round}${round === 0 ? " (warm-up)" : ""}: ${Object.entries(us).map(([name, u]) => `${name.split(" (")[0]} ${u.toFixed(0)} µs`).join(", ")}; load ${load}`),
    });
  } finally {
    clients.close();
    cached.destroy();
    await db.stop();
  }
  const floorUs = perCall[Object.keys(variants).at(-1)!]!; // the last variant run: the floor, unless SDK_ONLY left one
  for (const [name, us] of Object.entries(perCall)) {
    const ratios = us.map((u, i) => u / floorUs[i]!);
    process.stdout.write(`${name}: median ${median(us).toFixed(0)} µs, × floor ${median(ratios).toFixed(2)} (rounds: ${ratios.map((r) => r.toFixed(2)).join(", ")})\n`);
  }
  process.stdout.write(`client CPU per call, ${IN_FLIGHT} in flight, ${CALLS} calls a round, median of ${ROUNDS} rounds; load before ${loadBefore}, after ${loadavg()}\n`);
}

await main();
