import { createHash, generateKeyPairSync, randomBytes, sign, verify } from "node:crypto";
import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";
import {
  CreateTableCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  waitUntilTableExists,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { verifyAuthenticationResponse, verifyRegistrationResponse, type AuthenticationResponseJSON } from "@simplewebauthn/server";
import { SignatureV4 } from "@smithy/signature-v4";
import { parseAssertionKey } from "../src/webauthn/assertion-key.js";
import { preflightAuthentication } from "../src/webauthn/preflight.js";
import { verifyAuthentication } from "../src/webauthn/verify-authentication.js";
import { SoftAuthenticator } from "../test/support/soft-authenticator.js";
import { runLoad, type LoadResult } from "./load.js";
import { ORIGIN } from "./service-process.js";

/** A cost measured in the bench process: wall time and CPU time per operation, µs. */
export interface LocalCost {
  readonly wallUs: number;
  readonly cpuUs: number;
}

/** Runs `op` `count` times one after another and divides wall and CPU time by `count`. */
async function perOp(count: number, op: (i: number) => unknown): Promise<LocalCost> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < count; i += 1) await op(i);
  const wallUs = ((performance.now() - t0) * 1000) / count;
  const cpu = process.cpuUsage(cpu0);
  return { wallUs, cpuUs: (cpu.user + cpu.system) / count };
}

/** node:crypto ES256 verification of an assertion-sized message with an already imported key. */
export async function rawEs256Verify(count: number): Promise<LocalCost> {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const data = Buffer.concat([randomBytes(37), createHash("sha256").update(randomBytes(128)).digest()]);
  const signature = sign("sha256", data, privateKey);
  await perOp(count / 10, () => verify("sha256", data, publicKey, signature)); // warm up
  return perOp(count, () => {
    if (!verify("sha256", data, publicKey, signature)) throw new Error("raw ES256 verify failed");
  });
}

interface FloorAssertions {
  readonly id: string;
  readonly publicKey: Uint8Array<ArrayBuffer>;
  readonly challenge: string;
  /** count × 1.1 fresh assertions: the first `count` are timed, the rest warm up. */
  readonly assertions: AuthenticationResponseJSON[];
}

/** One registered ES256 credential and its assertions, made before timing (they are the client's work). */
async function floorAssertions(count: number): Promise<FloorAssertions> {
  const authenticator = new SoftAuthenticator();
  const challenge = randomBytes(32).toString("base64url");
  const creation = {
    challenge,
    rp: { id: "localhost", name: "bench" },
    user: { id: randomBytes(32).toString("base64url"), name: "bench", displayName: "bench" },
    pubKeyCredParams: [{ type: "public-key", alg: -7 }],
  };
  const registered = await verifyRegistrationResponse({
    response: authenticator.create(creation, ORIGIN),
    expectedChallenge: challenge,
    expectedOrigin: ORIGIN,
    expectedRPID: "localhost",
  });
  if (!registered.verified) throw new Error("floor registration did not verify");
  const { id, publicKey } = registered.registrationInfo.credential;
  const assertions = Array.from({ length: count * 1.1 }, () => authenticator.get({ challenge, rpId: "localhost" }, ORIGIN));
  return { id, publicKey, challenge, assertions };
}

/** Times `check` on the first `count` assertions after warming up on the rest. */
async function timedChecks(count: number, check: (i: number) => Promise<void>): Promise<LocalCost> {
  await perOp(count / 10, (i) => check(count + i)); // warm up
  return perOp(count, check);
}

/** @simplewebauthn/server's verifyAuthenticationResponse alone, one at a time, on fresh assertions. */
export async function simpleWebAuthnVerify(count: number): Promise<LocalCost> {
  const { id, publicKey, challenge, assertions } = await floorAssertions(count);
  return timedChecks(count, async (i) => {
    const result = await verifyAuthenticationResponse({
      response: assertions[i]!,
      expectedChallenge: challenge,
      expectedOrigin: [ORIGIN],
      expectedRPID: "localhost",
      requireUserVerification: false,
      credential: { id, publicKey, counter: 0 },
    });
    if (!result.verified) throw new Error("floor assertion did not verify");
  });
}

/**
 * The service's own verification of the same assertions: preflight (parse, client-data and RP ID
 * checks) and the fast verifier with the key parsed once, as the credential cache holds it.
 */
export async function serviceVerify(count: number): Promise<LocalCost> {
  const { id, publicKey, challenge, assertions } = await floorAssertions(count);
  const key = { credentialId: id, publicKey, assertionKey: parseAssertionKey(publicKey) };
  if (!key.assertionKey) throw new Error("floor key is not on the fast path");
  const rp = { rpId: "localhost", origins: [ORIGIN] };
  const json = assertions.map((a) => JSON.stringify(a));
  return timedChecks(count, async (i) => {
    const preflighted = preflightAuthentication(json[i]!, rp);
    await verifyAuthentication(preflighted, { challenge, ...rp, requireUserVerification: false }, key);
  });
}

export interface StoreFloors {
  /** GetItem through the service's client, 32 in flight: DynamoDB Local's read rate. */
  readonly getItem: LoadResult;
  /** PutItem with attribute_not_exists(pk), each item once, 32 in flight. */
  readonly conditionalWrites: LoadResult;
  /** The same write alone, one in flight: a store round trip. */
  readonly conditionalWriteAlone: LoadResult;
  /**
   * FinishAuthentication's three round trips alone, in its order, one in flight: put-if-absent of
   * a marker, conditional counter update of an existing item, put of an event. Each latency is
   * the sum of the three.
   */
  readonly finishWritesAlone: LoadResult;
}

const FLOOR_TABLE = "bench-floor";

/** A table keyed by a string `pk`, for the store floors. */
export async function createFloorTable(dynamo: DynamoDBClient, name: string): Promise<void> {
  await dynamo.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
    }),
  );
  await waitUntilTableExists({ client: dynamo, maxWaitTime: 30 }, { TableName: name });
}

/**
 * The floor under any DynamoDB client: a GetItem of `key` in `table`, signed with the SDK's own
 * @smithy/signature-v4 (one signer, so its derived-key cache is kept) and sent over node:http with
 * a keep-alive agent, its JSON answer parsed. `sha256` is a client's (`client.config.sha256`).
 */
export function signedGetItem(endpoint: string, region: string, sha256: ConstructorParameters<typeof SignatureV4>[0]["sha256"]) {
  const url = new URL(endpoint);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const signer = new SignatureV4({ credentials: { accessKeyId: "local", secretAccessKey: "local" }, region, service: "dynamodb", sha256, uriEscapePath: true });
  const get = async (table: string, key: string): Promise<unknown> => {
    const body = JSON.stringify({ TableName: table, Key: { pk: { S: key } } });
    const signed = await signer.sign({
      method: "POST",
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: "/",
      query: {},
      headers: {
        host: url.host,
        "content-type": "application/x-amz-json-1.0",
        "x-amz-target": "DynamoDB_20120810.GetItem",
        "content-length": String(Buffer.byteLength(body)),
      },
      body,
    });
    return new Promise((done, fail) => {
      const req = request({ agent, host: url.hostname, port: url.port, method: "POST", path: "/", headers: signed.headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => (res.statusCode === 200 ? done(JSON.parse(Buffer.concat(chunks).toString())) : fail(new Error(`GetItem: HTTP ${res.statusCode}`))));
      });
      req.on("error", fail);
      req.end(body);
    });
  };
  return { get, close: () => agent.destroy() };
}

/**
 * FinishAuthentication's three writes, in its order, on a table keyed by `pk`: put-if-absent of a
 * marker (`v = 1`), conditional counter update of an existing item (`counter` must exceed its `v`),
 * put of an event. Shared by the store floors and bench:sdk.
 */
export function finishWriteCommands(table: string) {
  return {
    putIfAbsent: (key: string) =>
      new PutItemCommand({
        TableName: table,
        Item: { pk: { S: key }, v: { N: "1" }, at: { N: String(Date.now()) } },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    updateCounter: (key: string, counter: number) =>
      new UpdateItemCommand({
        TableName: table,
        Key: { pk: { S: key } },
        UpdateExpression: "SET v = :c, lastUsedAt = :now",
        ConditionExpression: "attribute_exists(pk) AND v < :c",
        ExpressionAttributeValues: { ":c": { N: String(counter) }, ":now": { N: String(Date.now()) } },
      }),
    putEvent: (key: string) => new PutItemCommand({ TableName: table, Item: { pk: { S: key }, at: { N: String(Date.now()) }, details: { S: "x".repeat(300) } } }),
  };
}

/** DynamoDB Local's read and conditional-write rates and round trips, through the service's client, from this process. */
export async function storeFloors(dynamo: DynamoDBClient, counts: { calls: number; writes: number; alone: number }): Promise<StoreFloors> {
  await createFloorTable(dynamo, FLOOR_TABLE);
  const run = randomBytes(4).toString("hex");
  const writes = finishWriteCommands(FLOOR_TABLE);
  const put = (key: string) => dynamo.send(writes.putIfAbsent(key));
  const get = () => dynamo.send(new GetItemCommand({ TableName: FLOOR_TABLE, Key: { pk: { S: `${run}-0` } } }));
  const updateCounter = (counter: number) => dynamo.send(writes.updateCounter(`${run}-0`, counter));
  const putEvent = (key: string) => dynamo.send(writes.putEvent(key));

  await runLoad(counts.calls / 4, 32, async (i) => void (await put(`${run}-warm-${i}`).then(get))); // JIT, connections
  await put(`${run}-0`).catch(() => undefined);

  const getItem = await runLoad(counts.calls, 32, () => get().then(() => undefined));
  const conditionalWrites = await runLoad(counts.writes, 32, (i) => put(`${run}-w-${i}`).then(() => undefined));
  const conditionalWriteAlone = await runLoad(counts.alone, 1, (i) => put(`${run}-a-${i}`).then(() => undefined));
  const finishWritesAlone = await runLoad(counts.alone, 1, async (i) => {
    await put(`${run}-m-${i}`);
    await updateCounter(i + 2); // the seed item holds v = 1
    await putEvent(`${run}-e-${i}`);
  });
  for (const [name, r] of Object.entries({ getItem, conditionalWrites, conditionalWriteAlone, finishWritesAlone })) {
    if (r.failures > 0) throw new Error(`store floor ${name}: ${r.failures} failed, first: ${r.firstFailure}`);
  }
  return {
    getItem,
    conditionalWrites,
    conditionalWriteAlone,
    finishWritesAlone,
  };
}
