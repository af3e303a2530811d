import { Code, ConnectError } from "@connectrpc/connect";
import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type TextMapGetter } from "@opentelemetry/api";
import type { Call, CallStage } from "../rpc/call-pipeline.js";
import { rpcDuration } from "./metrics.js";

const tracer = trace.getTracer("dynauthn");

const headerGetter: TextMapGetter<Call> = {
  keys: (call) => [...call.headerNames()],
  get: (call, key) => call.header(key),
};

/** Codes that mean the server failed, not the caller (the gRPC semantic conventions' SERVER list). */
const SERVER_FAULTS = new Set([Code.Unknown, Code.DeadlineExceeded, Code.Unimplemented, Code.Internal, Code.Unavailable, Code.DataLoss]);

/**
 * One SERVER span and one duration sample per RPC, on every protocol and server path
 * (`dynauthn.rpc.path` says which). The caller's W3C trace context (traceparent) is the parent;
 * the span is active while the handler runs, so child spans, audit events and log lines carry
 * its trace id. Place it first (outermost) so that it sees the ConnectError the error stage
 * makes of every failure.
 */
export const telemetryStage: CallStage = async (call, next) => {
  const service = call.method.parent.typeName;
  const attributes: Attributes = {
    "rpc.system": call.grpc ? "grpc" : "connect_rpc",
    "rpc.service": service,
    "rpc.method": call.method.name,
    "dynauthn.rpc.path": call.path,
  };
  const parent = propagation.extract(context.active(), call, headerGetter);
  const span = tracer.startSpan(`${service}/${call.method.name}`, { kind: SpanKind.SERVER, attributes }, parent);
  const started = performance.now();
  let code: number = 0; // gRPC OK; Connect has no name for it
  try {
    return await context.with(trace.setSpan(parent, span), next);
  } catch (err) {
    const connectError = ConnectError.from(err);
    code = connectError.code;
    if (SERVER_FAULTS.has(code)) span.setStatus({ code: SpanStatusCode.ERROR, message: connectError.rawMessage });
    throw err;
  } finally {
    const status = statusAttributes(call.grpc, code);
    span.setAttributes(status);
    span.end();
    rpcDuration.record((performance.now() - started) / 1000, { ...attributes, ...status });
  }
};

/** gRPC reports every status as a number; Connect names errors only (Code.InvalidArgument → "invalid_argument"). */
function statusAttributes(grpc: boolean, code: number): Attributes {
  if (grpc) return { "rpc.grpc.status_code": code };
  if (code === 0) return {};
  return { "rpc.connect_rpc.error_code": (Code[code] ?? "unknown").replace(/(?<=[a-z])(?=[A-Z])/g, "_").toLowerCase() };
}
