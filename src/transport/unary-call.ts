import type http from "node:http";
import type http2 from "node:http2";
import { create, isMessage, type Message } from "@bufbuild/protobuf";
import { Code, ConnectError, type ContextValues } from "@connectrpc/connect";
import type { UniversalHandlerOptions } from "@connectrpc/connect/protocol";
import type { Call, CallStage } from "../rpc/call-pipeline.js";
import type { UnaryCallContext } from "./unary-call-context.js";
import type { UnaryMethod, UnaryMethods } from "./unary-methods.js";

/** What a lean unary path (grpc-unary.ts, connect-unary.ts) needs from the server. */
export interface UnaryPathOptions {
  readonly methods: UnaryMethods;
  readonly pipeline: CallStage;
  /** connect-node's options, validated (validateUniversalHandlerOptions): limits, compressions, JSON and binary options, maximum timeout. */
  readonly handlerOptions: UniversalHandlerOptions;
  readonly contextValues: (req: http.IncomingMessage | http2.Http2ServerRequest) => ContextValues;
}

export type RequestListener = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => void;

/** The one answer of a call: the first of the handler's result, its error, or the deadline wins. */
export interface UnaryReply {
  readonly sent: boolean;
  ok(output: Message): void | Promise<void>;
  error(err: ConnectError): void | Promise<void>;
}

/** One unary call as a lean path has read its headers. */
export interface UnaryExchange {
  readonly unary: UnaryMethod;
  readonly ctx: UnaryCallContext;
  /** The deadline the client sent, if valid. */
  readonly timeoutMs: number | undefined;
  /** A refusal decided from the headers alone (compression, timeout, protocol version), answered before the body is read. */
  readonly refusal: ConnectError | undefined;
  /** Reads, decompresses and parses the request message (connect's errors). */
  readMessage(): Promise<Message>;
  /** How the call pipeline sees the call: protocol, path and request headers. */
  readonly call: Pick<Call, "grpc" | "path" | "header" | "headerNames">;
  readonly reply: UnaryReply;
  /** Registers what to do when the response or its stream closes, sent or not. */
  onClose(listener: () => void): void;
}

/** Node fires a timer above 2³¹−1 ms (≈ 24.8 days) at once: a longer deadline is no deadline. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Serves one unary call: the client's deadline and cancellation abort the handler's signal (one
 * AbortController, no linked ones), the request message runs through the call pipeline and the
 * implementation, and exactly one answer is sent. At the deadline the answer is
 * DEADLINE_EXCEEDED at once, whatever the handler does with its aborted signal.
 */
export async function serveUnaryCall(x: UnaryExchange, pipeline: CallStage): Promise<void> {
  const { unary, ctx, reply } = x;
  const deadline =
    x.timeoutMs === undefined || x.refusal || x.timeoutMs > MAX_TIMER_MS
      ? undefined
      : setTimeout(() => {
          const expired = new ConnectError("the operation timed out", Code.DeadlineExceeded);
          ctx.abort(expired);
          void reply.error(expired);
        }, x.timeoutMs).unref();
  x.onClose(() => {
    clearTimeout(deadline);
    if (!reply.sent) ctx.abort(new ConnectError("the client cancelled the call", Code.Canceled));
  });
  try {
    if (x.refusal) throw x.refusal;
    const message = await x.readMessage();
    const call: Call = { ...x.call, method: unary.method, values: ctx.values, unary: { message } };
    const output = await pipeline(call, async () => unary.impl(message, ctx));
    await reply.ok(isMessage(output, unary.method.output) ? output : create(unary.method.output, output));
  } catch (err) {
    // The pipeline's error stage made every handler failure a ConnectError; what fails outside
    // it (framing, parsing) is connect's ConnectError too. Anything else is no one's business.
    await reply.error(err instanceof ConnectError ? err : new ConnectError("internal error", Code.Internal));
  } finally {
    clearTimeout(deadline);
  }
}

/** Node joins repeated fields with ", " except a few it keeps as arrays (set-cookie): those are no protocol fields. */
export function fieldValue(value: string | string[] | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/**
 * A Fetch Headers object's fields added to Node's outgoing headers, as connect-node's
 * webHeaderToNodeHeaders and `set` make them: a name it repeats (set-cookie) becomes a list, a
 * name already in `into` is replaced.
 */
export function outgoingFields(headers: Headers | undefined, into: http2.OutgoingHttpHeaders = {}, prefix = ""): http2.OutgoingHttpHeaders {
  const own = new Set<string>();
  headers?.forEach((value, name) => {
    const key = prefix + name;
    const existing = own.has(key) ? into[key] : undefined;
    own.add(key);
    into[key] = existing === undefined ? value : [...[existing].flat().map(String), value];
  });
  return into;
}
