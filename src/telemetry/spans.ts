import { SpanStatusCode, trace } from "@opentelemetry/api";

const tracer = trace.getTracer("dynauthn");

/** Runs `work` in a child span of the active one; a throw marks the span as an error. */
export function inSpan<T>(name: string, work: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, async (span) => {
    try {
      return await work();
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}
