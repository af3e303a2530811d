import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { createDynamoClient } from "../src/store/client.js";
import { createFloorTable, finishWriteCommands, signedGetItem } from "./floors.js";
import { quantile, runLoad } from "./load.js";

/** A GetItem through one client; its client CPU per call is what is compared. */
export type ClientCall = () => Promise<unknown>;

export const loadavg = () => readFileSync("/proc/loadavg", "utf8").trim();
export const median = (xs: readonly number[]) => quantile([...xs].sort((a, b) => a - b), 0.5);

/** Client CPU (µs, this process) per call of `call`, `calls` times at `inFlight`. */
export async function clientCpuPerCall(call: ClientCall, calls: number, inFlight: number): Promise<number> {
  const cpu0 = process.cpuUsage();
  const r = await runLoad(calls, inFlight, () => call().then(() => undefined));
  const cpu = process.cpuUsage(cpu0);
  if (r.failures > 0) throw new Error(`DynamoDB call failed: ${r.firstFailure}`);
  return (cpu.user + cpu.system) / calls;
}

export interface Rounds {
  readonly calls: number;
  readonly rounds: number;
  readonly inFlight: number;
  /** Told each round's µs by variant and the load average. */
  readonly onRound?: (round: number, usByVariant: Record<string, number>, load: string) => void;
}

/**
 * Every variant in turn, `rounds` times (a warm-up round of at least 1000 calls each first, for
 * the JIT and the connections): on a shared machine the rounds see the same noise, so per-round
 * ratios carry better than the µs. Returns each variant's µs per call, one entry per round.
 */
export async function interleaved(variants: Record<string, ClientCall>, opts: Rounds): Promise<Record<string, number[]>> {
  const perCall: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
  for (let round = 0; round <= opts.rounds; round++) {
    const us: Record<string, number> = {};
    for (const [name, call] of Object.entries(variants)) {
      us[name] = await clientCpuPerCall(call, round === 0 ? Math.max(1000, opts.calls) : opts.calls, opts.inFlight);
      if (round > 0) perCall[name]!.push(us[name]!);
    }
    opts.onRound?.(round, us, loadavg());
  }
  return perCall;
}

/** Median µs per call and the median of its per-round ratios to the signed floor. */
export interface ClientCost {
  readonly us: number;
  readonly timesSigned: number;
}

export interface DynamoClientFloors {
  /** `new DynamoDBClient({ region, endpoint, credentials })`, nothing else. */
  readonly defaultClient: ClientCost;
  /** The service's own client (src/store/client.ts createDynamoClient). */
  readonly service: ClientCost;
  /** A GetItem signed with @smithy/signature-v4 (one signer) over node:http keep-alive, JSON parsed. */
  readonly signed: ClientCost;
  readonly rounds: number;
  readonly calls: number;
  readonly inFlight: number;
}

const REGION = "us-east-1";
const KEY = "item";
/** The table of the client floors' GetItem, and that GetItem. */
export const FLOOR_GET_TABLE = "bench-sdk-floor";
export const floorGetItem = () => new GetItemCommand({ TableName: FLOOR_GET_TABLE, Key: { pk: { S: KEY } } });

/** The clients' GetItem against `table` (created here) on DynamoDB Local, for bench:sdk and the bench's floors. */
export async function dynamoClients(endpoint: string, table: string) {
  const credentials = { accessKeyId: "local", secretAccessKey: "local" };
  const defaultClient = new DynamoDBClient({ region: REGION, endpoint, credentials });
  const service = createDynamoClient({ endpoint, region: REGION, localCredentials: true });
  const signed = signedGetItem(endpoint, REGION, defaultClient.config.sha256);
  await createFloorTable(service, table);
  await service.send(new PutItemCommand({ TableName: table, Item: { pk: { S: KEY }, v: { N: "1" } } }));
  const get = new GetItemCommand({ TableName: table, Key: { pk: { S: KEY } } });
  return {
    endpoint,
    region: REGION,
    get,
    calls: {
      defaultClient: () => defaultClient.send(get),
      service: () => service.send(get),
      signed: () => signed.get(table, KEY),
    },
    writes: serviceWrites(service, table),
    close: () => {
      signed.close();
      defaultClient.destroy();
      service.destroy();
    },
  };
}

/**
 * FinishAuthentication's three writes (floors.ts finishWriteCommands) through the service's client,
 * each a variant of its own: run in this order in every round with as many calls each, the k-th
 * counter update finds the item the k-th put-if-absent created.
 */
function serviceWrites(service: DynamoDBClient, table: string) {
  const writes = finishWriteCommands(table);
  const run = randomBytes(4).toString("hex");
  let puts = 0;
  let updates = 0;
  let events = 0;
  return {
    putIfAbsent: () => service.send(writes.putIfAbsent(`${run}-m-${puts++}`)),
    updateCounter: () => service.send(writes.updateCounter(`${run}-m-${updates++}`, 2)),
    putEvent: () => service.send(writes.putEvent(`${run}-e-${events++}`)),
  };
}

/** Client CPU per GetItem of the default client, the service's client and the signed-request floor, interleaved. */
export async function dynamoClientFloors(endpoint: string, opts: Omit<Rounds, "onRound">): Promise<DynamoClientFloors> {
  const clients = await dynamoClients(endpoint, FLOOR_GET_TABLE);
  try {
    const perCall = await interleaved(clients.calls, opts);
    const cost = (name: keyof typeof clients.calls): ClientCost => ({
      us: median(perCall[name]!),
      timesSigned: median(perCall[name]!.map((us, i) => us / perCall.signed![i]!)),
    });
    return { defaultClient: cost("defaultClient"), service: cost("service"), signed: cost("signed"), ...opts };
  } finally {
    clients.close();
  }
}
