/**
 * `npm run bench:sdk`: client CPU per DynamoDB GetItem (this process, SDK_IN_FLIGHT in flight,
 * default 16) for the default DynamoDBClient, the service's client (createDynamoClient) and the
 * floor under both (a request signed with @smithy/signature-v4 over node:http keep-alive), against
 * DynamoDB Local, interleaved for SDK_ROUNDS rounds (default 7) after a warm-up round; prints each
 * round and the medians with their ratios to the floor. The machine is shared: the ratios carry
 * better than the µs.
 */
import { readFileSync } from "node:fs";
import { DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { createDynamoClient } from "../src/store/client.js";
import { startEmbeddedDynamoDb } from "../src/store/embedded-dynamodb.js";
import { createFloorTable, signedGetItem } from "./floors.js";
import { log } from "./harness.js";
import { quantile, runLoad } from "./load.js";

const CALLS = 2000;
const ROUNDS = Number(process.env.SDK_ROUNDS ?? "7");
const IN_FLIGHT = Number(process.env.SDK_IN_FLIGHT ?? "16");
const REGION = "us-east-1";
const TABLE = "bench-sdk";
const KEY = "item";

const loadavg = () => readFileSync("/proc/loadavg", "utf8").trim();
const median = (xs: number[]) => quantile([...xs].sort((a, b) => a - b), 0.5);

/** Client CPU (µs) per call of `call`, CALLS times at IN_FLIGHT. */
async function cpuPerCall(call: () => Promise<unknown>): Promise<number> {
  const cpu0 = process.cpuUsage();
  const r = await runLoad(CALLS, IN_FLIGHT, () => call().then(() => undefined));
  const cpu = process.cpuUsage(cpu0);
  if (r.failures > 0) throw new Error(`GetItem failed: ${r.firstFailure}`);
  return (cpu.user + cpu.system) / CALLS;
}

async function main(): Promise<void> {
  const loadBefore = loadavg();
  const db = await startEmbeddedDynamoDb();
  const credentials = { accessKeyId: "local", secretAccessKey: "local" };
  const defaultClient = new DynamoDBClient({ region: REGION, endpoint: db.endpoint, credentials });
  const cached = new DynamoDBClient({
    region: REGION,
    endpoint: db.endpoint,
    credentials,
    cacheMiddleware: true,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000, httpAgent: { keepAlive: true, maxSockets: 64 } },
  });
  const service = createDynamoClient({ endpoint: db.endpoint, region: REGION, localCredentials: true });
  const floor = signedGetItem(db.endpoint, REGION, defaultClient.config.sha256);
  const get = new GetItemCommand({ TableName: TABLE, Key: { pk: { S: KEY } } });
  const all = {
    "default DynamoDBClient": () => defaultClient.send(get),
    "cacheMiddleware + keep-alive only (the service's client before the lean set-up)": () => cached.send(get),
    "service client (createDynamoClient)": () => service.send(get),
    "signed floor (@smithy/signature-v4 + node:http keep-alive)": () => floor.get(TABLE, KEY),
  };
  // SDK_ONLY=<part of a name>: that variant alone, e.g. under `node --cpu-prof` to profile one client.
  const variants = Object.fromEntries(Object.entries(all).filter(([name]) => name.includes(process.env.SDK_ONLY ?? "")));
  const perCall: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
  try {
    await createFloorTable(service, TABLE);
    await service.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: KEY }, v: { N: "1" } } }));
    for (let round = 0; round <= ROUNDS; round++) {
      const line: string[] = [];
      for (const [name, call] of Object.entries(variants)) {
        const us = await cpuPerCall(call);
        if (round > 0) perCall[name]!.push(us); // round 0 warms the JIT and the connections
        line.push(`${name.split(" (")[0]} ${us.toFixed(0)} µs`);
      }
      log(`round ${round}${round === 0 ? " (warm-up)" : ""}: ${line.join(", ")}; load ${loadavg()}`);
    }
  } finally {
    floor.close();
    defaultClient.destroy();
    cached.destroy();
    service.destroy();
    await db.stop();
  }
  const floorName = Object.keys(variants).at(-1)!;
  const floorUs = perCall[floorName]!;
  for (const [name, us] of Object.entries(perCall)) {
    const ratios = us.map((u, i) => u / floorUs[i]!);
    process.stdout.write(`${name}: median ${median(us).toFixed(0)} µs, × floor ${median(ratios).toFixed(2)} (rounds: ${ratios.map((r) => r.toFixed(2)).join(", ")})\n`);
  }
  process.stdout.write(`client CPU per GetItem, ${IN_FLIGHT} in flight, ${CALLS} calls a round, median of ${ROUNDS} rounds; load before ${loadBefore}, after ${loadavg()}\n`);
}

await main();
