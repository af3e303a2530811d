import { Writable } from "node:stream";
import { context, SpanKind, trace } from "@opentelemetry/api";
import { MetricReader, type DataPoint } from "@opentelemetry/sdk-metrics";
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTelemetry } from "../../src/telemetry/sdk.js";

/** A reader the test collects from when it wants (no export interval). */
class CollectingReader extends MetricReader {
  protected override onForceFlush = () => Promise.resolve();
  protected override onShutdown = () => Promise.resolve();

  /** The data points of one metric, summed over collections (cumulative, so the latest). */
  async points(name: string): Promise<DataPoint<unknown>[]> {
    const { resourceMetrics } = await this.collect();
    const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
    return (metric?.dataPoints ?? []) as DataPoint<unknown>[];
  }
}

// Telemetry starts before the service's modules (and the AWS SDK) load: they are imported below.
const spans = new InMemorySpanExporter();
const reader = new CollectingReader();
const telemetry = startTelemetry(
  { exportFromEnv: false, prometheus: undefined },
  { spanProcessors: [new SimpleSpanProcessor(spans)], metricReaders: [reader] },
);
const { startTestService, closeAll } = await import("../support/service.js");
const { assertion, register } = await import("../support/ceremonies.js");
const { SoftAuthenticator } = await import("../support/soft-authenticator.js");
const { createLogger } = await import("../../src/logger.js");
const { AuditEventType } = await import("../../src/gen/authn/v1/audit_pb.js");

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN_ID = "00f067aa0ba902b7";

const named = (name: string) => spans.getFinishedSpans().filter((s) => s.name === name);
const childrenOf = (parent: ReadableSpan) =>
  spans.getFinishedSpans().filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);
const pointWith = (points: DataPoint<unknown>[], attributes: Record<string, string>) =>
  points.find((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v));

describe("telemetry: traces, metrics and trace ids in audit events and logs", () => {
  let svc: Awaited<ReturnType<typeof startTestService>>;
  const authenticator = new SoftAuthenticator();

  beforeAll(async () => {
    svc = await startTestService();
    await register(svc, authenticator, "traced");
  });
  afterAll(async () => {
    await closeAll(svc);
    await telemetry?.shutdown();
  });

  it("traces a login: SERVER spans under the caller's traceparent, DynamoDB and verification spans under them", async () => {
    spans.reset();
    const headers = { traceparent: `00-${TRACE_ID}-${CALLER_SPAN_ID}-01` };
    const begin = await svc.connect.beginAuthentication({ userId: "traced" }, { headers });
    const credentialJson = JSON.stringify(authenticator.get(begin.optionsJson, "http://localhost:8080"));
    await svc.connect.finishAuthentication({ credentialJson }, { headers });

    for (const method of ["BeginAuthentication", "FinishAuthentication"]) {
      const [server] = named(`authn.v1.AuthService/${method}`);
      expect(server?.kind).toBe(SpanKind.SERVER);
      expect(server?.spanContext().traceId).toBe(TRACE_ID);
      expect(server?.parentSpanContext?.spanId).toBe(CALLER_SPAN_ID);
      expect(server?.attributes).toMatchObject({ "rpc.system": "connect_rpc", "rpc.service": "authn.v1.AuthService", "rpc.method": method, "dynauthn.rpc.path": "connect_unary" });
    }
    const [finish] = named("authn.v1.AuthService/FinishAuthentication");
    const children = childrenOf(finish!);
    expect(children.map((s) => s.name)).toContain("webauthn.verify_authentication");
    const dynamo = children.filter((s) => s.attributes["db.system.name"] === "dynamodb");
    // Put the challenge's consumed marker, read the credential (not cached yet), advance its counter, write the audit event.
    expect(dynamo.map((s) => s.name).sort()).toEqual(["DynamoDB.GetItem", "DynamoDB.PutItem", "DynamoDB.PutItem", "DynamoDB.UpdateItem"]);
    for (const span of dynamo) {
      expect(span.kind).toBe(SpanKind.CLIENT);
      expect(span.attributes["aws.dynamodb.table_names"]).toEqual([expect.stringMatching(new RegExp(`^${svc.tablePrefix}`))]);
    }
  });

  it("writes the caller's trace id into the audit event of the login", async () => {
    const { events } = await svc.connect.listAuditEvents({ userId: "traced", pageSize: 10 });
    const login = events.find((e) => e.type === AuditEventType.AUTHENTICATION);
    expect(login?.traceId).toBe(TRACE_ID);
  });

  it("records gRPC status codes on refused calls over the gRPC protocol", async () => {
    const { createClient } = await import("@connectrpc/connect");
    const { createGrpcTransport } = await import("@connectrpc/connect-node");
    const { AuthService } = await import("../../src/gen/authn/v1/auth_service_pb.js");
    const grpc = createClient(AuthService, createGrpcTransport({ baseUrl: svc.baseUrl }));
    spans.reset();
    const headers = { traceparent: `00-${TRACE_ID}-${CALLER_SPAN_ID}-01` };
    await expect(grpc.finishAuthentication({ credentialJson: "{}" }, { headers })).rejects.toThrow();
    const [server] = named("authn.v1.AuthService/FinishAuthentication");
    expect(server?.spanContext().traceId).toBe(TRACE_ID); // from gRPC metadata
    expect(server?.attributes).toMatchObject({ "rpc.system": "grpc", "rpc.grpc.status_code": 3, "dynauthn.rpc.path": "grpc_unary" }); // INVALID_ARGUMENT
    const durations = await reader.points("rpc.server.call.duration");
    const sample = durations.find((p) => p.attributes["rpc.method"] === "FinishAuthentication" && p.attributes["dynauthn.rpc.path"] === "grpc_unary");
    expect(sample?.attributes).toMatchObject({ "rpc.system": "grpc", "rpc.grpc.status_code": 3 });
  });

  it("spans and measures calls on every server path: gRPC-Web and streaming gRPC on connect-node, unary gRPC and unary Connect on their unary paths", async () => {
    const { createClient } = await import("@connectrpc/connect");
    const { createConnectTransport, createGrpcTransport, createGrpcWebTransport } = await import("@connectrpc/connect-node");
    const { Health } = await import("../../src/gen/grpc/health/v1/health_pb.js");
    spans.reset();
    const headers = { traceparent: `00-${TRACE_ID}-${CALLER_SPAN_ID}-01` };
    await createClient(Health, createGrpcWebTransport({ baseUrl: svc.baseUrl, httpVersion: "2" })).check({}, { headers });
    await createClient(Health, createGrpcTransport({ baseUrl: svc.baseUrl })).check({}, { headers });
    await createClient(Health, createConnectTransport({ baseUrl: svc.baseUrl, httpVersion: "2", useBinaryFormat: true })).check({}, { headers });
    const watch = new AbortController();
    for await (const _ of createClient(Health, createGrpcTransport({ baseUrl: svc.baseUrl })).watch({}, { headers, signal: watch.signal })) break;
    const paths = named("grpc.health.v1.Health/Check").map((s) => [s.attributes["dynauthn.rpc.path"], s.spanContext().traceId, s.parentSpanContext?.spanId]);
    expect(paths).toEqual([
      ["connect_node", TRACE_ID, CALLER_SPAN_ID],
      ["grpc_unary", TRACE_ID, CALLER_SPAN_ID],
      ["connect_unary", TRACE_ID, CALLER_SPAN_ID],
    ]);
    const durations = await reader.points("rpc.server.call.duration");
    expect(pointWith(durations, { "rpc.method": "Check", "dynauthn.rpc.path": "connect_unary" })?.attributes).toMatchObject({ "rpc.system": "connect_rpc" });
    expect(named("grpc.health.v1.Health/Watch").map((s) => s.attributes["dynauthn.rpc.path"])).toEqual(["connect_node"]);
  });

  it("names gRPC as gRPC however the client spells its content type (media types are case-insensitive; connect-node accepts any case)", async () => {
    const http2 = await import("node:http2");
    spans.reset();
    const session = http2.connect(svc.baseUrl);
    const json = Buffer.from("{}");
    const envelope = Buffer.concat([Buffer.from([0, 0, 0, 0, json.length]), json]);
    const status = await new Promise<string | undefined>((resolve, reject) => {
      const req = session.request({ ":method": "POST", ":path": "/grpc.health.v1.Health/Check", "content-type": "Application/GRPC+json", te: "trailers" });
      req.on("trailers", (t) => resolve(t["grpc-status"] as string | undefined));
      req.on("error", reject);
      req.resume();
      req.end(envelope);
    }).finally(() => session.close());
    expect(status).toBe("0");
    const [server] = named("grpc.health.v1.Health/Check");
    expect(server?.attributes).toMatchObject({ "rpc.system": "grpc", "rpc.grpc.status_code": 0, "dynauthn.rpc.path": "connect_node" });
  });

  it("counts ceremonies by type, outcome and reason, cache hits, and RPC durations", async () => {
    const ceremonies = await reader.points("dynauthn.ceremonies");
    expect(pointWith(ceremonies, { "dynauthn.event.type": "registration", "dynauthn.outcome": "success" })?.value).toBe(1);
    expect(pointWith(ceremonies, { "dynauthn.event.type": "authentication", "dynauthn.outcome": "success" })?.value).toBe(1);
    const refusal = pointWith(ceremonies, { "dynauthn.event.type": "authentication", "dynauthn.outcome": "failure" });
    expect(refusal?.attributes["dynauthn.reason"]).toMatch(/^[A-Z_]+$/);

    // The first login read the credential (miss) and the user's list (miss); this second one hits both.
    const credentialJson = await assertion(svc, authenticator, "traced");
    await svc.connect.finishAuthentication({ credentialJson });
    await expect(svc.connect.finishAuthentication({ credentialJson })).rejects.toThrow(); // a replay
    // Every challenge issued in this file was consumed once: nothing is outstanding.
    const challenges = await reader.points("dynauthn.challenges");
    const count = (kind: string, event: string) =>
      pointWith(challenges, { "dynauthn.ceremony.kind": kind, "dynauthn.challenge.event": event })?.value;
    expect([count("registration", "issued"), count("registration", "consumed")]).toEqual([1, 1]);
    expect(count("authentication", "consumed")).toBe(2);
    expect(count("authentication", "issued")).toBe(2);

    const cache = await reader.points("dynauthn.cache.lookups");
    expect(pointWith(cache, { "dynauthn.cache": "credential", "dynauthn.cache.result": "miss" })?.value).toBe(1);
    expect(pointWith(cache, { "dynauthn.cache": "credential", "dynauthn.cache.result": "hit" })?.value).toBe(1);
    expect(pointWith(cache, { "dynauthn.cache": "user_credentials", "dynauthn.cache.result": "hit" })?.value).toBe(1);

    const durations = await reader.points("rpc.server.call.duration");
    const finish = durations.find(
      (p) => p.attributes["rpc.method"] === "FinishAuthentication" && Object.keys(p.attributes).length === 4, // the successes
    );
    expect((finish?.value as { count: number } | undefined)?.count).toBe(2);
    expect(pointWith(durations, { "rpc.method": "FinishAuthentication", "rpc.connect_rpc.error_code": "unauthenticated" })).toBeDefined();
    const db = await reader.points("db.client.operation.duration");
    expect(pointWith(db, { "db.system.name": "dynamodb", "db.operation.name": "UpdateItem" })).toBeDefined();
    // The replay's challenge was already consumed: the conditional put of its marker failed.
    const replayed = pointWith(db, { "db.operation.name": "PutItem", "error.type": "ConditionalCheckFailedException" });
    expect((replayed?.value as { count: number } | undefined)?.count).toBe(1);
    const [age] = await reader.points("dynauthn.signing_key.age");
    expect(age?.value).toBeGreaterThanOrEqual(0);
  });

  it("puts the active span's trace id into every log line", () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => void (lines.push(String(chunk)), done()) });
    const logger = createLogger("info", sink);
    const span = trace.getTracer("test").startSpan("work");
    context.with(trace.setSpan(context.active(), span), () => logger.info("inside"));
    span.end();
    logger.info("outside");
    const [inside, outside] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(inside).toMatchObject({ trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId });
    expect(outside).not.toHaveProperty("trace_id");
  });

  it("a warm sign-in costs 3 DynamoDB writes and no read: Begin none, Finish the marker, the counter and the event", async () => {
    // Warm the credential and its user's allowCredentials list.
    await svc.connect.finishAuthentication({ credentialJson: await assertion(svc, authenticator, "traced") });
    spans.reset();
    const begin = await svc.connect.beginAuthentication({ userId: "traced" });
    const credentialJson = JSON.stringify(authenticator.get(begin.optionsJson, "http://localhost:8080"));
    await svc.connect.finishAuthentication({ credentialJson });
    const dynamoUnder = (method: string) =>
      childrenOf(named(`authn.v1.AuthService/${method}`)[0]!)
        .filter((s) => s.attributes["db.system.name"] === "dynamodb")
        .map((s) => s.name)
        .sort();
    expect(dynamoUnder("BeginAuthentication")).toEqual([]);
    expect(dynamoUnder("FinishAuthentication")).toEqual(["DynamoDB.PutItem", "DynamoDB.PutItem", "DynamoDB.UpdateItem"]);
  });

  describe("telemetry of Begin limits", () => {
    let limited: Awaited<ReturnType<typeof startTestService>>;
    const lines: string[] = [];
    beforeAll(async () => {
      const sink = new Writable({ write: (chunk, _enc, done) => void (lines.push(String(chunk)), done()) });
      limited = await startTestService(undefined, {
        beginLimits: { perCaller: 0, perUser: 1, perIp: 0, windowSeconds: 60, outstandingPerUser: 0 },
        logger: createLogger("info", sink),
      });
    });
    afterAll(() => closeAll(limited));

    it("counts each refusal in dynauthn.rate_limited by limit and challenge kind, and logs it at info without the user", async () => {
      const begin = () => limited.connect.beginRegistration({ userId: "limited-user", userName: "limited@example.com" });
      await begin();
      await expect(begin()).rejects.toThrow(/too many Begin calls for this user/);
      await expect(begin()).rejects.toThrow(/too many Begin calls for this user/);
      const refusals = await reader.points("dynauthn.rate_limited");
      expect(pointWith(refusals, { "dynauthn.limit": "user", "dynauthn.ceremony.kind": "registration" })?.value).toBe(2);
      expect(pointWith(refusals, { "dynauthn.limit": "user", "dynauthn.ceremony.kind": "authentication" })).toBeUndefined();

      const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === "rpc refused");
      expect(logged).toHaveLength(2);
      expect(logged[0]).toMatchObject({ level: 30, reason: "RATE_LIMITED", metadata: { limit: "user" } });
      expect(logged[0]?.retryDelayMs).toBeGreaterThan(0);
      expect(lines.join("")).not.toMatch(/limited-user|limited@example.com/);
    });
  });
});
