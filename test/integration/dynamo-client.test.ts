/**
 * The service's DynamoDB client resolves its middleware stack once per command class
 * (cacheMiddleware), yet middleware added or removed after a command was sent still takes effect:
 * the store-health and metrics middleware are added after createTables has sent commands.
 */
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from "@aws-sdk/client-dynamodb";
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import { createDynamoClient } from "../../src/store/client.js";

const client = () => createDynamoClient({ endpoint: inject("dynamoEndpoint"), region: "us-east-1", localCredentials: true });
const listTables = () => new ListTablesCommand({ Limit: 1 });

afterEach(() => vi.restoreAllMocks());

describe("createDynamoClient's middleware cache", () => {
  it("resolves a command's middleware once, not on every request", async () => {
    const dynamo = client();
    const resolve = vi.spyOn(ListTablesCommand.prototype, "resolveMiddleware");
    await dynamo.send(listTables());
    await dynamo.send(listTables());
    await dynamo.send(listTables());
    expect(resolve).toHaveBeenCalledTimes(1);
    dynamo.destroy();
  });

  it("runs middleware added after the command was first sent, and stops running it once removed", async () => {
    const dynamo = client();
    await dynamo.send(listTables());
    let seen = 0;
    dynamo.middlewareStack.add(
      (next) => async (args) => {
        seen += 1;
        return next(args);
      },
      { step: "initialize", name: "countRequests" },
    );
    await dynamo.send(listTables());
    await dynamo.send(listTables());
    expect(seen).toBe(2);
    expect(dynamo.middlewareStack.remove("countRequests")).toBe(true);
    await dynamo.send(listTables());
    expect(seen).toBe(2);
    dynamo.destroy();
  });
});

/** The access key ids of the signatures `dynamo` sends, read after signing. */
function signedWith(dynamo: DynamoDBClient): string[] {
  const keys: string[] = [];
  dynamo.middlewareStack.add(
    (next) => async (args) => {
      const auth = String((args.request as { headers: Record<string, string> }).headers.authorization);
      keys.push(/Credential=([^/]+)\//.exec(auth)?.[1] ?? "unsigned");
      return next(args);
    },
    // The deserialize step runs after signing (finalizeRequest), on the request as sent.
    { step: "deserialize", name: "readSignature" },
  );
  return keys;
}

describe("createDynamoClient's lean set-up", () => {
  it("signs every request with the credentials the provider gives now: refreshed credentials are used, never frozen", async () => {
    const dynamo = createDynamoClient({ endpoint: inject("dynamoEndpoint"), region: "us-east-1", localCredentials: false });
    let issued = 0;
    // Short-lived credentials, as IRSA's web identity gives: the SDK refreshes them before expiry.
    dynamo.config.credentials = async () => ({ accessKeyId: `AKID${++issued}`, secretAccessKey: "s", expiration: new Date(Date.now() + 60_000) });
    const keys = signedWith(dynamo);
    await dynamo.send(listTables());
    await dynamo.send(listTables());
    await dynamo.send(listTables());
    // Each signature carries the credentials issued for it: the provider is asked once a request, at
    // signing (the SDK's memoizing wrapper asks once more at its first call, for credentials this close to expiry).
    expect(keys).toEqual([`AKID${issued - 2}`, `AKID${issued - 1}`, `AKID${issued}`]);
    dynamo.destroy();
  });

  it("uses DYNAMODB_ENDPOINT, or the region's endpoint by the SDK's own rules, and drops only the unneeded middleware", async () => {
    const local = client();
    expect(local.config.endpointProvider({}).url.href).toBe(`${inject("dynamoEndpoint")}/`);
    const regional = createDynamoClient({ endpoint: undefined, region: "eu-west-1", localCredentials: true });
    expect(regional.config.endpointProvider({}).url.href).toBe("https://dynamodb.eu-west-1.amazonaws.com/");
    const china = createDynamoClient({ endpoint: undefined, region: "cn-north-1", localCredentials: true });
    expect(china.config.endpointProvider({}).url.href).toBe("https://dynamodb.cn-north-1.amazonaws.com.cn/");
    const names = local.middlewareStack.identify().join(" ");
    expect(names).not.toMatch(/getUserAgentMiddleware|recursionDetectionMiddleware|loggerMiddleware/);
    // Folded into ./lean-middleware.ts's serializer and ./lean-signing.ts's signing middleware.
    expect(names).not.toMatch(/httpAuthSchemeMiddleware|contentLengthMiddleware|hostHeaderMiddleware/);
    expect(names).toMatch(/retryMiddleware.*httpSigningMiddleware/);
    for (const c of [local, regional, china]) c.destroy();
  });

  it("keeps one signer for every request", async () => {
    const dynamo = client();
    const signer = dynamo.config.signer;
    expect(await signer()).toBe(await signer());
    dynamo.destroy();
  });
});

describe("createDynamoClient's lean pipeline (./lean-middleware.ts)", () => {
  const table = `lean-${process.pid}-${Date.now()}`;
  const key = (pk: string) => ({ pk: { S: pk } });

  it("asks nothing per request to find the endpoint: the SDK's endpoint middleware no longer runs", async () => {
    const dynamo = client();
    const provider = vi.spyOn(dynamo.config, "endpointProvider");
    await dynamo.send(listTables());
    await dynamo.send(new GetItemCommand({ TableName: "absent", Key: key("x") })).catch(() => undefined);
    await dynamo.send(listTables(), { abortSignal: new AbortController().signal }); // a send that resolves its stack anew
    expect(provider).not.toHaveBeenCalled();
    dynamo.destroy();
  });

  it("hands the SDK's protocol a context that inherits the client config instead of a copy of it", async () => {
    const dynamo = client();
    const serialize = vi.spyOn(dynamo.config.protocol as { serializeRequest: (...a: unknown[]) => unknown }, "serializeRequest");
    const deserialize = vi.spyOn(dynamo.config.protocol as { deserializeResponse: (...a: unknown[]) => unknown }, "deserializeResponse");
    await dynamo.send(listTables());
    expect(Object.getPrototypeOf(serialize.mock.calls[0]![2])).toBe(dynamo.config);
    expect(Object.getPrototypeOf(deserialize.mock.calls[0]![1])).toBe(dynamo.config);
    dynamo.destroy();
  });

  it("reads and writes items exactly as the default DynamoDBClient does, and keeps the SDK's typed errors", async () => {
    const dynamo = client();
    const reference = new DynamoDBClient({ region: "us-east-1", endpoint: inject("dynamoEndpoint"), credentials: { accessKeyId: "local", secretAccessKey: "local" } });
    await dynamo.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      }),
    );
    const item = { ...key("a"), n: { N: "12.5" }, b: { B: new Uint8Array([0, 1, 255]) }, l: { L: [{ S: "x" }, { BOOL: true }, { NULL: true }] }, m: { M: { ss: { SS: ["p", "q"] } } } };
    await dynamo.send(new PutItemCommand({ TableName: table, Item: item }));
    const strip = ({ $metadata: _, ...rest }: { $metadata: unknown }) => rest;
    const get = new GetItemCommand({ TableName: table, Key: key("a"), ConsistentRead: true });
    expect(strip(await dynamo.send(get))).toEqual(strip(await reference.send(get)));
    expect((await dynamo.send(get)).Item).toEqual(item);
    const query = new QueryCommand({ TableName: table, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": { S: "a" } } });
    expect(strip(await dynamo.send(query))).toEqual(strip(await reference.send(query)));

    const conditional = await dynamo.send(new PutItemCommand({ TableName: table, Item: key("a"), ConditionExpression: "attribute_not_exists(pk)" })).catch((e: unknown) => e);
    expect(conditional).toBeInstanceOf(ConditionalCheckFailedException);
    expect(conditional).toMatchObject({ $fault: "client", $metadata: { httpStatusCode: 400 } });
    expect((conditional as { $response?: { statusCode: number } }).$response?.statusCode).toBe(400);
    const cancelled = await dynamo
      .send(new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: table, Item: key("a"), ConditionExpression: "attribute_not_exists(pk)" } }] }))
      .catch((e: unknown) => e);
    expect(cancelled).toBeInstanceOf(TransactionCanceledException);
    expect((cancelled as TransactionCanceledException).CancellationReasons?.map((r) => r.Code)).toEqual(["ConditionalCheckFailed"]);
    const invalid = await dynamo.send(new GetItemCommand({ TableName: table, Key: {} })).catch((e: unknown) => e);
    expect(invalid).toMatchObject({ name: "ValidationException", $metadata: { httpStatusCode: 400 } });
    dynamo.destroy();
    reference.destroy();
  });
});

/** A local HTTP server standing in for DynamoDB where a test needs a misbehaving one. */
async function stubStore(answer: (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void) {
  let requests = 0;
  let connections = 0;
  let onBody = (_body: Buffer) => {};
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk)).on("end", () => {
      onBody(Buffer.concat(chunks));
      answer(req, res, ++requests);
    });
  });
  server.on("connection", () => (connections += 1));
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    /** Told each request's body before it is answered. */
    onBody: (told: (body: Buffer) => void) => (onBody = told),
    close: () => {
      server.closeAllConnections();
      return new Promise((done) => server.close(done));
    },
  };
}

const answerListTables = (res: http.ServerResponse, headers: http.OutgoingHttpHeaders = {}) => {
  res.writeHead(200, { "content-type": "application/x-amz-json-1.0", ...headers });
  res.end('{"TableNames":[]}');
};

/** A DynamoDB error answer: `type` is the JSON protocol's `__type` (namespace#ErrorCode). */
const answerError = (res: http.ServerResponse, status: number, type: string, headers: http.OutgoingHttpHeaders = {}) => {
  res.writeHead(status, { "content-type": "application/x-amz-json-1.0", ...headers });
  res.end(JSON.stringify({ __type: type, message: "stub" }));
};

/** What a send failed with: the error's name, and how long it took (ms). */
async function failure(send: Promise<unknown>): Promise<{ name: string; ms: number }> {
  const t0 = performance.now();
  const err = await send.then(
    () => expect.fail("the request succeeded"),
    (e: Error) => e,
  );
  return { name: err.name, ms: performance.now() - t0 };
}

describe("createDynamoClient's request handler", () => {
  const stubs: { close(): Promise<unknown> }[] = [];
  afterEach(async () => {
    for (const stub of stubs.splice(0)) await stub.close();
  });
  const stub = async (answer: Parameters<typeof stubStore>[0]) => {
    const s = await stubStore(answer);
    stubs.push(s);
    return s;
  };

  it("keeps the connection alive: sequential and concurrent requests reuse it", async () => {
    const store = await stub((_req, res) => answerListTables(res));
    const dynamo = createDynamoClient({ endpoint: store.endpoint, region: "us-east-1", localCredentials: true });
    for (let i = 0; i < 5; i++) await dynamo.send(listTables());
    expect(store.connections()).toBe(1);
    await Promise.all(Array.from({ length: 4 }, () => dynamo.send(listTables())));
    expect(store.connections()).toBeLessThanOrEqual(4);
    for (let i = 0; i < 5; i++) await dynamo.send(listTables());
    expect(store.connections()).toBeLessThanOrEqual(4);
    dynamo.destroy();
  });

  it("fails an attempt that gets no response within the request timeout, body included, as a retryable TimeoutError", async () => {
    const silent = await stub(() => undefined); // reads the request, never answers
    const dynamo = createDynamoClient({ endpoint: silent.endpoint, region: "us-east-1", localCredentials: true, requestTimeoutMs: 300, maxAttempts: 1 });
    const noAnswer = await failure(dynamo.send(listTables()));
    expect(noAnswer.name).toBe("TimeoutError");
    expect(noAnswer.ms).toBeGreaterThanOrEqual(290);
    expect(noAnswer.ms).toBeLessThan(2_000);
    dynamo.destroy();

    const stalled = await stub((_req, res) => {
      res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
      res.write('{"TableNa'); // headers and half a body, then nothing
    });
    const slow = createDynamoClient({ endpoint: stalled.endpoint, region: "us-east-1", localCredentials: true, requestTimeoutMs: 300, maxAttempts: 1 });
    expect((await failure(slow.send(listTables()))).name).toBe("TimeoutError");
    slow.destroy();
  });

  it("retries a timed-out or reset attempt (standard retry strategy) and succeeds on the next", async () => {
    const flaky = await stub((req, res, n) => {
      if (n === 1) return; // the first attempt times out
      if (n === 2) return req.socket.destroy(); // the second loses its connection
      answerListTables(res);
    });
    const dynamo = createDynamoClient({ endpoint: flaky.endpoint, region: "us-east-1", localCredentials: true, requestTimeoutMs: 300 });
    await expect(dynamo.send(listTables())).resolves.toMatchObject({ TableNames: [], $metadata: { attempts: 3 } });
    dynamo.destroy();
  });

  it("retries a 500 and a throttling error with the SDK's standard retry strategy, and succeeds on the next attempt", async () => {
    const attempts: string[] = [];
    const failing = await stub((req, res, n) => {
      attempts.push(String(req.headers["amz-sdk-request"]));
      if (n === 1) return answerError(res, 500, "com.amazonaws.dynamodb.v20120810#InternalServerError");
      if (n === 2) return answerError(res, 400, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException");
      answerListTables(res);
    });
    const dynamo = createDynamoClient({ endpoint: failing.endpoint, region: "us-east-1", localCredentials: true });
    const strategy = (await dynamo.config.retryStrategy()) as { mode?: string; acquireInitialRetryToken: (scope: string) => unknown };
    expect(strategy.mode).toBe("standard");
    const acquire = vi.spyOn(strategy, "acquireInitialRetryToken");
    const output = await dynamo.send(listTables());
    expect(output.$metadata).toMatchObject({ attempts: 3 });
    expect(output.$metadata.totalRetryDelay).toBeGreaterThan(0);
    expect(attempts).toEqual(["attempt=1; max=3", "attempt=2; max=3", "attempt=3; max=3"]);
    expect(acquire).toHaveBeenCalledTimes(1);
    // Three failures in a row: the last one is thrown, typed, with the attempts made.
    const down = await stub((_req, res) => answerError(res, 500, "com.amazonaws.dynamodb.v20120810#InternalServerError"));
    const failed = createDynamoClient({ endpoint: down.endpoint, region: "us-east-1", localCredentials: true });
    const err = await failed.send(listTables()).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "InternalServerError", $fault: "server", $metadata: { httpStatusCode: 500, attempts: 3 } });
    dynamo.destroy();
    failed.destroy();
  });

  it("corrects its clock from the store's Date header after a clock-skew error, and retries signed with the corrected date", async () => {
    const ahead = new Date(Date.now() + 3_600_000); // the store's clock is an hour ahead
    const signedAt: number[] = [];
    const skewed = await stub((req, res, n) => {
      signedAt.push(Date.parse(String(req.headers["x-amz-date"]).replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, "$1-$2-$3T$4:$5:$6Z")));
      if (n > 1) return answerListTables(res, { date: ahead.toUTCString() });
      answerError(res, 400, "com.amazon.coral.service#InvalidSignatureException", { date: ahead.toUTCString() });
    });
    const dynamo = createDynamoClient({ endpoint: skewed.endpoint, region: "us-east-1", localCredentials: true });
    const output = await dynamo.send(listTables());
    expect(output.$metadata).toMatchObject({ attempts: 2 });
    expect(Math.abs(signedAt[0]! - Date.now())).toBeLessThan(60_000);
    expect(Math.abs(signedAt[1]! - ahead.getTime())).toBeLessThan(60_000);
    expect(Math.abs(dynamo.config.systemClockOffset - 3_600_000)).toBeLessThan(60_000);
    dynamo.destroy();
  });

  it("sends and signs the host and content-length headers the SDK's build step set", async () => {
    let seen: http.IncomingHttpHeaders = {};
    let length = -1;
    const store = await stub((req, res) => {
      seen = req.headers;
      answerListTables(res);
    });
    store.onBody((body) => (length = body.length));
    const dynamo = createDynamoClient({ endpoint: store.endpoint, region: "us-east-1", localCredentials: true });
    await dynamo.send(listTables());
    expect(seen.host).toBe(new URL(store.endpoint).host);
    expect(seen["content-length"]).toBe(String(length));
    expect(seen.authorization).toMatch(/SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target,/);
    dynamo.destroy();
  });

  it("fails a connection not established within the connection timeout (a TLS handshake that never completes), not after the request timeout", async () => {
    // An https endpoint goes through the TLS agent: a TCP server that never speaks TLS stalls the handshake.
    const mute = net.createServer(() => undefined);
    await new Promise<void>((done) => mute.listen(0, "127.0.0.1", done));
    stubs.push({ close: () => new Promise((done) => mute.close(done)) });
    const sockets: net.Socket[] = [];
    mute.on("connection", (s) => sockets.push(s));
    const endpoint = `https://127.0.0.1:${(mute.address() as AddressInfo).port}`;
    const dynamo = createDynamoClient({ endpoint, region: "us-east-1", localCredentials: true, requestTimeoutMs: 10_000, maxAttempts: 1 });
    const stuck = await failure(dynamo.send(listTables()));
    expect(stuck.name).toBe("TimeoutError");
    expect(stuck.ms).toBeGreaterThanOrEqual(990); // the 1 s connection timeout
    expect(stuck.ms).toBeLessThan(5_000);
    expect(sockets).toHaveLength(1);
    dynamo.destroy();
    for (const s of sockets) s.destroy();
  });

  it("reports a response body that does not parse with its HTTP status and the raw response, as the SDK does", async () => {
    const garbled = await stub((_req, res) => {
      res.writeHead(200, { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": "req-1" });
      res.end("<html>not JSON</html>");
    });
    const dynamo = createDynamoClient({ endpoint: garbled.endpoint, region: "us-east-1", localCredentials: true, maxAttempts: 1 });
    const err = await dynamo.send(listTables()).catch((e: unknown) => e);
    expect(err).toMatchObject({ $metadata: { httpStatusCode: 200, requestId: "req-1" } });
    expect((err as { $response?: { statusCode: number } }).$response?.statusCode).toBe(200);
    dynamo.destroy();
  });

  it("ends an aborted request at once with an AbortError, and refuses one aborted before it started", async () => {
    const silent = await stub(() => undefined);
    const dynamo = createDynamoClient({ endpoint: silent.endpoint, region: "us-east-1", localCredentials: true, requestTimeoutMs: 10_000 });
    const aborted = await failure(dynamo.send(listTables(), { abortSignal: AbortSignal.timeout(100) }));
    expect(aborted.name).toBe("AbortError");
    expect(aborted.ms).toBeLessThan(2_000);
    const controller = new AbortController();
    controller.abort();
    expect((await failure(dynamo.send(listTables(), { abortSignal: controller.signal }))).name).toBe("AbortError");
    dynamo.destroy();
  });
});
