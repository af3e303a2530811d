import { randomBytes } from "node:crypto";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createDynamoClient } from "../src/store/client.js";
import { startEmbeddedDynamoDb } from "../src/store/embedded-dynamodb.js";
import { createTables, tableNames } from "../src/store/tables.js";
import { Ceremonies, type BenchUser } from "./ceremonies.js";
import { startDynamoProxy, type DynamoProxy } from "./dynamo-proxy.js";
import type { Probe } from "./measure.js";
import { parsePinning, pin, type Pinning } from "./pinning.js";
import { findPid } from "./proc-stats.js";
import { registerPool } from "./scenarios.js";
import { create } from "@bufbuild/protobuf";
import { Health, HealthCheckRequestSchema } from "../src/gen/grpc/health/v1/health_pb.js";
import { grpcJsClient, unary } from "../test/support/grpc-js-client.js";
import { startBareGrpcServer, startServiceProcess, writeOperatorFiles } from "./service-process.js";

/** One service process and the grpc-js client that drives it. */
export interface ServiceUnderTest {
  readonly ceremonies: Ceremonies;
  readonly probe: Probe;
  /** Set when the service runs with `--inspect`. */
  readonly inspectorUrl: string | undefined;
}

/**
 * Everything a bench run drives. Two replicas of the service share the tables and the signing key:
 * `timed` talks to DynamoDB Local directly and is the one whose CPU, latency, throughput and memory
 * are reported; `counted` reaches it through the counting proxy, which only tells how many requests
 * and capacity units each ceremony costs. The proxy's hop and its CPU (in the bench process) are
 * then not part of what is timed, as they are not part of the store floors either.
 */
/** The bare-gRPC floor's process (bare-grpc-server.ts) and a trivial call to it from the same grpc-js client. */
export interface BareGrpcFloor {
  readonly probe: Probe;
  check(): Promise<void>;
}

export interface Harness {
  readonly tag: string;
  readonly tablePrefix: string;
  /** DynamoDB Local's endpoint, for the SDK client floors. */
  readonly storeEndpoint: string;
  /** An SDK client straight to DynamoDB Local (not through the proxy), for the floors. */
  readonly store: DynamoDBClient;
  readonly timed: ServiceUnderTest;
  readonly counted: ServiceUnderTest & { readonly proxy: DynamoProxy };
  readonly floor: BareGrpcFloor;
  /** Registered users, each with a session token (one sign-in each, so caches are warm). */
  readonly pool: BenchUser[];
  /** BENCH_CPUS as applied (empty: every process may use every CPU). */
  readonly pinning: Pinning;
  close(): Promise<void>;
}

export const log = (message: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

/** `serviceNodeArgs`: extra node flags for the timed service process (e.g. `--cpu-prof`). */
export async function startHarness(poolSize: number, serviceNodeArgs: readonly string[] = []): Promise<Harness> {
  const pinning = parsePinning(process.env.BENCH_CPUS);
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
    const javaPid = findPid(["-port", new URL(dynamo.endpoint).port]);
    const store = createDynamoClient({ endpoint: dynamo.endpoint, region: "us-east-1", localCredentials: true });
    cleanups.unshift(() => store.destroy());
    await createTables(store, tableNames(tablePrefix));
    const proxy = await startDynamoProxy(dynamo.endpoint);
    cleanups.unshift(() => proxy.close());
    const files = await writeOperatorFiles();
    cleanups.unshift(() => files.remove());

    const start = async (endpoint: string, nodeArgs: readonly string[]): Promise<ServiceUnderTest> => {
      const service = await startServiceProcess(endpoint, tablePrefix, files, nodeArgs);
      cleanups.unshift(() => service.stop());
      const ceremonies = new Ceremonies(service.address);
      cleanups.unshift(() => ceremonies.close());
      return { ceremonies, probe: { servicePid: service.pid, javaPid }, inspectorUrl: service.inspectorUrl };
    };
    log("starting the service twice (dist/main.js): timed, straight to DynamoDB Local; counted, through the proxy");
    const timed = await start(dynamo.endpoint, serviceNodeArgs);
    const counted = { ...(await start(proxy.endpoint, [])), proxy };
    log("starting the bare-gRPC floor (a grpc-js server answering Health/Check, own process)");
    const bare = await startBareGrpcServer();
    cleanups.unshift(() => bare.stop());
    const bareHealth = grpcJsClient(Health, bare.address);
    cleanups.unshift(() => bareHealth.close());
    const floor = { probe: { servicePid: bare.pid, javaPid }, check: () => unary<unknown>(bareHealth, "check", create(HealthCheckRequestSchema, {})).then(() => undefined) };
    pin(timed.probe.servicePid, pinning.service);
    pin(bare.pid, pinning.service);
    pin(javaPid, pinning.store);
    pin(process.pid, pinning.bench);

    log(`registering ${poolSize} users (also warms DynamoDB Local's JVM and the service's JIT)`);
    const pool = await registerPool(timed.ceremonies, poolSize, tag);
    return { tag, tablePrefix, storeEndpoint: dynamo.endpoint, store, timed, counted, floor, pool, pinning, close };
  } catch (err) {
    await close();
    throw err;
  }
}
