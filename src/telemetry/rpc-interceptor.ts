import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type TextMapGetter } from "@opentelemetry/api";
import { rpcDuration } from "./metrics.js";

const tracer = trace.getTracer("dynauthn");

const headerGetter: TextMapGetter<Headers> = {
  keys: (headers) => [...headers.keys()],
  get: (headers, key) => headers.get(key) ?? undefined,
};

/** Codes that mean the server failed, not the caller (the gRPC semantic conventions' SERVER list). */
const SERVER_FAULTS = new Set([Code.Unknown, Code.DeadlineExceeded, Code.Unimplemented, Code.Internal, Code.Unavailable, Code.DataLoss]);

/**
 * One SERVER span and one duration sample per RPC, for every protocol connect-node serves. The
 * caller's W3C trace context (traceparent) is the parent; the span is active while the handler
 * runs, so child spans, audit events and log lines carry its trace id. Place it first (outermost)
 * so that it sees the ConnectError the error interceptor makes of every failure.
 */
export function telemetryInterceptor(): Interceptor {
  return (next) => async (req) => {
    const grpc = req.header.get("content-type")?.startsWith("application/grpc") ?? false;
    const attributes: Attributes = {
      "rpc.system": grpc ? "grpc" : "connect_rpc",
      "rpc.service": req.service.typeName,
      "rpc.method": req.method.name,
    };
    const parent = propagation.extract(context.active(), req.header, headerGetter);
    const span = tracer.startSpan(`${req.service.typeName}/${req.method.name}`, { kind: SpanKind.SERVER, attributes }, parent);
    const started = performance.now();
    let code: number = 0; // gRPC OK; Connect has no name for it
    try {
      return await context.with(trace.setSpan(parent, span), () => next(req));
    } catch (err) {
      const connectError = ConnectError.from(err);
      code = connectError.code;
      if (SERVER_FAULTS.has(code)) span.setStatus({ code: SpanStatusCode.ERROR, message: connectError.rawMessage });
      throw err;
    } finally {
      const status = statusAttributes(grpc, code);
      span.setAttributes(status);
      span.end();
      rpcDuration.record((performance.now() - started) / 1000, { ...attributes, ...status });
    }
  };
}

/** gRPC reports every status as a number; Connect names errors only (Code.InvalidArgument → "invalid_argument"). */
function statusAttributes(grpc: boolean, code: number): Attributes {
  if (grpc) return { "rpc.grpc.status_code": code };
  if (code === 0) return {};
  return { "rpc.connect_rpc.error_code": (Code[code] ?? "unknown").replace(/(?<=[a-z])(?=[A-Z])/g, "_").toLowerCase() };
}
