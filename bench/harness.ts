import { randomBytes } from "node:crypto";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createDynamoClient } from "../src/store/client.js";
import { startEmbeddedDynamoDb } from "../src/store/embedded-dynamodb.js";
import { createTables, tableNames } from "../src/store/tables.js";
import { Ceremonies, type BenchUser } from "./ceremonies.js";
import { startDynamoProxy } from "./dynamo-proxy.js";
import type { Probe } from "./measure.js";
import { findPid } from "./proc-stats.js";
import { registerPool } from "./scenarios.js";
import { startServiceProcess } from "./service-process.js";

/** Everything a bench run drives: DynamoDB Local ← counting proxy ← the service ← grpc-js clients. */
export interface Harness {
  readonly tag: string;
  readonly tablePrefix: string;
  /** An SDK client straight to DynamoDB Local (not through the proxy), for the floors. */
  readonly store: DynamoDBClient;
  readonly probe: Probe;
  readonly ceremonies: Ceremonies;
  /** Registered users, each with a session token (one sign-in each, so caches are warm). */
  readonly pool: BenchUser[];
  close(): Promise<void>;
}

export const log = (message: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

/** `serviceNodeArgs`: extra node flags for the service process (e.g. `--cpu-prof`). */
export async function startHarness(poolSize: number, serviceNodeArgs: readonly string[] = []): Promise<Harness> {
  const tag = randomBytes(3).toString("hex");
  const tablePrefix = `bench-${tag}-`;
  const cleanups: (() => Promise<unknown> | void)[] = [];
  const close = async () => {
    for (const cleanup of cleanups) await cleanup();
  };
  try {
    log("starting DynamoDB Local");
    const dynamo = await startEmbeddedDynamoDb();
    cleanups.unshift(() => dynamo.stop());
    const store = createDynamoClient({ endpoint: dynamo.endpoint, region: "us-east-1", localCredentials: true });
    cleanups.unshift(() => store.destroy());
    await createTables(store, tableNames(tablePrefix));
    const proxy = await startDynamoProxy(dynamo.endpoint);
    cleanups.unshift(() => proxy.close());

    log("starting the service (dist/main.js)");
    const service = await startServiceProcess(proxy.endpoint, tablePrefix, serviceNodeArgs);
    cleanups.unshift(() => service.stop());
    const probe = { servicePid: service.pid, javaPid: findPid(["-port", new URL(dynamo.endpoint).port]), proxy };
    const ceremonies = new Ceremonies(service.address);
    cleanups.unshift(() => ceremonies.close());

    log(`registering ${poolSize} users (also warms DynamoDB Local's JVM and the service's JIT)`);
    const pool = await registerPool(ceremonies, poolSize, tag);
    return { tag, tablePrefix, store, probe, ceremonies, pool, close };
  } catch (err) {
    await close();
    throw err;
  }
}
