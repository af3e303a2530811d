import type http from "node:http";
import http2 from "node:http2";
import { create, isMessage } from "@bufbuild/protobuf";
import { Code, ConnectError, type ContextValues } from "@connectrpc/connect";
import { compressionNegotiate, encodeEnvelope, envelopeDecompress, type EnvelopedMessage, type UniversalHandlerOptions } from "@connectrpc/connect/protocol";
import { headerAcceptEncoding, headerEncoding, headerTimeout, parseContentType, parseTimeout, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import type { Call, CallStage } from "../rpc/call-pipeline.js";
import { GrpcCallContext } from "./grpc-call-context.js";
import type { UnaryMethod, UnaryMethods } from "./unary-methods.js";

export interface GrpcUnaryOptions {
  readonly methods: UnaryMethods;
  readonly pipeline: CallStage;
  /** connect-node's options, validated (validateUniversalHandlerOptions): limits, compressions, maximum timeout. */
  readonly handlerOptions: UniversalHandlerOptions;
  readonly contextValues: (req: http2.Http2ServerRequest) => ContextValues;
}

type RequestListener = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => void;

/**
 * gRPC (binary) unary calls on HTTP/2 are served here, every other request by `fallback`
 * (connect-node: streaming calls, gRPC-Web, Connect, gRPC with JSON, HTTP/1.1). connect-node's
 * gRPC path spends several times a bare gRPC server's CPU on a trivial call (async-generator
 * stages, linked AbortControllers, Headers; bench/NOTES.md); this path reads the one message,
 * runs the same call pipeline and implementation, and answers, with connect's own protocol
 * pieces for content type, timeout, compression, envelope, serialization and status trailers.
 */
export function grpcUnaryFirst(opts: GrpcUnaryOptions, fallback: RequestListener): RequestListener {
  return (req, res) => {
    const unary = req instanceof http2.Http2ServerRequest && req.method === "POST" ? opts.methods.get(req.url) : undefined;
    if (unary === undefined || parseContentType(req.headers["content-type"] ?? null)?.binary !== true) return fallback(req, res);
    const h2res = res as http2.Http2ServerResponse;
    // serveUnary answers every failure itself; should anything still throw, the stream is reset
    // rather than the process taken down by an unhandled rejection.
    serveUnary(unary, req as http2.Http2ServerRequest, h2res, opts).catch(() => h2res.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
  };
}

const MAX_TIMER_MS = 2 ** 31 - 1;

async function serveUnary(unary: UnaryMethod, req: http2.Http2ServerRequest, res: http2.Http2ServerResponse, opts: GrpcUnaryOptions): Promise<void> {
  const { handlerOptions: options } = opts;
  const { stream, headers } = req;
  const header = (name: string) => fieldValue(headers[name]);
  const timeout = parseTimeout(header(headerTimeout.toLowerCase()) ?? null, options.maxTimeoutMs);
  // Responses go uncompressed (gRPC lets a server choose identity whatever the client accepts).
  const compression = compressionNegotiate(options.acceptCompression, header(headerEncoding.toLowerCase()) ?? null, "identity", headerAcceptEncoding);
  const ctx = new GrpcCallContext(unary.method, opts.contextValues(req), headers, timeout.timeoutMs);
  const reply = new Reply(res, ctx);
  // Node fires a timer above 2³¹−1 ms (≈ 24.8 days) at once: a longer deadline (grpc-timeout
  // allows 8 digits of hours) is no deadline.
  const deadline =
    timeout.timeoutMs === undefined || timeout.error || timeout.timeoutMs > MAX_TIMER_MS
      ? undefined
      : setTimeout(() => {
          const expired = new ConnectError("the operation timed out", Code.DeadlineExceeded);
          ctx.abort(expired);
          reply.error(expired);
        }, timeout.timeoutMs).unref();
  stream.once("close", () => {
    clearTimeout(deadline);
    if (!reply.sent) ctx.abort(new ConnectError("the client cancelled the call", Code.Canceled));
  });
  try {
    if (compression.error) throw compression.error;
    if (timeout.error) throw timeout.error;
    const envelope = await readEnvelope(req, options.readMaxBytes);
    const { data } = await envelopeDecompress(envelope, compression.request, options.readMaxBytes);
    const message = unary.input.parse(data);
    const call: Call = { method: unary.method, grpc: true, path: "grpc_unary", values: ctx.values, unary: { message }, header, headerNames: () => Object.keys(headers) };
    const output = await opts.pipeline(call, async () => unary.impl(message, ctx));
    reply.ok(encodeEnvelope(0, unary.output.serialize(isMessage(output, unary.method.output) ? output : create(unary.method.output, output))));
  } catch (err) {
    // The pipeline's error stage made every handler failure a ConnectError; what fails outside
    // it (framing, parsing) is connect's ConnectError too. Anything else is no one's business.
    reply.error(err instanceof ConnectError ? err : new ConnectError("internal error", Code.Internal));
  } finally {
    clearTimeout(deadline);
  }
}

/** Node joins repeated fields with ", " except a few it keeps as arrays: those are no gRPC fields. */
function fieldValue(value: string | string[] | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/**
 * The one message of a unary request, in gRPC's framing (a flags byte, a 4-byte length, the
 * message). connect reads envelopes only as an async-iterable stage, the cost this path avoids;
 * the checks and their errors are connect's: a length above `readMaxBytes` is RESOURCE_EXHAUSTED
 * as soon as the prefix arrives, no message or a second one is UNIMPLEMENTED, a cut-off one
 * INVALID_ARGUMENT.
 */
function readEnvelope(req: http2.Http2ServerRequest, readMaxBytes: number): Promise<EnvelopedMessage> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let length: number | undefined;
    const fail = (err: ConnectError) => {
      req.off("data", onData).off("end", onEnd).pause();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (length === undefined && received >= 5) {
        length = (chunks.length === 1 ? chunk : Buffer.concat(chunks)).readUInt32BE(1);
        if (length > readMaxBytes) return fail(new ConnectError(`message size ${length} is larger than configured readMaxBytes ${readMaxBytes}`, Code.ResourceExhausted));
      }
      if (length !== undefined && received > 5 + length) fail(new ConnectError("protocol error: received extra input message for unary method", Code.Unimplemented));
    };
    const onEnd = () => {
      if (received === 0) return reject(new ConnectError("protocol error: missing input message for unary method", Code.Unimplemented));
      if (length === undefined || received < 5 + length) return reject(new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument));
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      resolve({ flags: body[0]!, data: body.subarray(5) });
    };
    req.on("data", onData).once("end", onEnd);
  });
}

/** The one answer of a call: the first of the handler's result, its error, or the deadline. */
class Reply {
  sent = false;

  constructor(
    private readonly res: http2.Http2ServerResponse,
    private readonly ctx: GrpcCallContext,
  ) {}

  ok(body: Uint8Array): void {
    this.#send(body, { ...fields(this.ctx.added.trailer), "grpc-status": "0" });
  }

  /** Status, message and details (ErrorInfo in grpc-status-details-bin) as connect-node writes them. */
  error(err: ConnectError): void {
    this.#send(undefined, fields(setTrailerStatus(new Headers(this.ctx.added.trailer), err)));
  }

  #send(body: Uint8Array | undefined, trailers: http2.OutgoingHttpHeaders): void {
    const { res } = this;
    const { stream } = res;
    if (this.sent || stream.destroyed || stream.closed) return;
    this.sent = true;
    // Node's compatibility response (made for every stream anyway) sends the trailers when the body ends.
    res.writeHead(200, { ...fields(this.ctx.added.header), "content-type": "application/grpc+proto" });
    res.addTrailers(trailers);
    if (body) res.end(body);
    else res.end();
  }
}

function fields(headers: Headers | undefined): http2.OutgoingHttpHeaders {
  const result: http2.OutgoingHttpHeaders = {};
  headers?.forEach((value, name) => (result[name] = value));
  return result;
}
