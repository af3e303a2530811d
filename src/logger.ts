import { trace } from "@opentelemetry/api";
import { pino, type Logger } from "pino";

/**
 * Structured JSON logs. Redaction is a second line of defence: no code logs request bodies, but a
 * stray object with one of these keys never prints its value.
 */
const REDACT = [
  "sessionToken",
  "session_token",
  "credentialJson",
  "credential_json",
  "privateKey",
  "authorization",
  "*.sessionToken",
  "*.credentialJson",
  "*.privateKey",
  "*.authorization",
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { service: "dynauthn" }, mixin: traceFields, redact: { paths: REDACT, censor: "[redacted]" } }, destination);
}

/** The active span's ids on every line logged while a traced RPC runs (nothing when tracing is off). */
function traceFields(): Record<string, string> {
  const context = trace.getActiveSpan()?.spanContext();
  return context && trace.isSpanContextValid(context) ? { trace_id: context.traceId, span_id: context.spanId } : {};
}
