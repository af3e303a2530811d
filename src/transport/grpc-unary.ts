import http2 from "node:http2";
import type { Message } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { compressionNegotiate, encodeEnvelope, envelopeDecompress, type EnvelopedMessage, type Serialization } from "@connectrpc/connect/protocol";
import { headerAcceptEncoding, headerEncoding, headerTimeout, parseContentType, parseTimeout, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { fieldValue, outgoingFields, type RequestListener, serveUnaryCall, type UnaryExchange, type UnaryPathOptions, type UnaryReply } from "./unary-call.js";
import { UnaryCallContext } from "./unary-call-context.js";
import type { UnaryMethod } from "./unary-methods.js";

/**
 * gRPC (binary) unary calls on HTTP/2 are served here, every other request by `fallback`
 * (the Connect unary path, then connect-node: streaming calls, gRPC-Web, gRPC with JSON,
 * HTTP/1.1). connect-node's gRPC path spends several times a bare gRPC server's CPU on a
 * trivial call (async-generator stages, linked AbortControllers, Headers; bench/NOTES.md); this
 * path reads the one message, runs the same call pipeline and implementation (unary-call.ts),
 * and answers, with connect's own protocol pieces for content type, timeout, compression,
 * envelope, serialization and status trailers.
 */
export function grpcUnaryFirst(opts: UnaryPathOptions, fallback: RequestListener): RequestListener {
  return (req, res) => {
    const unary = req instanceof http2.Http2ServerRequest && req.method === "POST" ? opts.methods.get(req.url) : undefined;
    if (unary === undefined || parseContentType(req.headers["content-type"] ?? null)?.binary !== true) return fallback(req, res);
    const h2res = res as http2.Http2ServerResponse;
    // serveUnaryCall answers every failure itself; should anything still throw, the stream is
    // reset rather than the process taken down by an unhandled rejection.
    serveUnaryCall(grpcExchange(unary, req as http2.Http2ServerRequest, h2res, opts), opts.pipeline).catch(() =>
      h2res.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR),
    );
  };
}

function grpcExchange(unary: UnaryMethod, req: http2.Http2ServerRequest, res: http2.Http2ServerResponse, opts: UnaryPathOptions): UnaryExchange {
  const { handlerOptions: options } = opts;
  const { stream, headers } = req;
  const header = (name: string) => fieldValue(headers[name]);
  const timeout = parseTimeout(header(headerTimeout.toLowerCase()) ?? null, options.maxTimeoutMs);
  // Responses go uncompressed (gRPC lets a server choose identity whatever the client accepts).
  const compression = compressionNegotiate(options.acceptCompression, header(headerEncoding.toLowerCase()) ?? null, "identity", headerAcceptEncoding);
  const ctx = new UnaryCallContext("grpc", unary.method, opts.contextValues(req), headers, timeout.timeoutMs);
  const input = unary.serialization.getI(true);
  const output = unary.serialization.getO(true);
  return {
    unary,
    ctx,
    timeoutMs: timeout.timeoutMs,
    refusal: compression.error ?? timeout.error,
    async readMessage() {
      const envelope = await readEnvelope(req, options.readMaxBytes);
      const { data } = await envelopeDecompress(envelope, compression.request, options.readMaxBytes);
      return input.parse(data);
    },
    call: { grpc: true, path: "grpc_unary", header, headerNames: () => Object.keys(headers) },
    reply: new GrpcReply(res, ctx, output),
    onClose: (listener) => stream.once("close", listener),
  };
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

/** The gRPC answer: the message and status trailers, or the status alone. */
class GrpcReply implements UnaryReply {
  sent = false;

  constructor(
    private readonly res: http2.Http2ServerResponse,
    private readonly ctx: UnaryCallContext,
    private readonly output: Serialization<Message>,
  ) {}

  ok(output: Message): void {
    const body = encodeEnvelope(0, this.output.serialize(output));
    this.#send(body, { ...outgoingFields(this.ctx.added.trailer), "grpc-status": "0" });
  }

  /** Status, message and details (ErrorInfo in grpc-status-details-bin) as connect-node writes them. */
  error(err: ConnectError): void {
    this.#send(undefined, outgoingFields(setTrailerStatus(new Headers(this.ctx.added.trailer), err)));
  }

  #send(body: Uint8Array | undefined, trailers: http2.OutgoingHttpHeaders): void {
    const { res } = this;
    const { stream } = res;
    if (this.sent || stream.destroyed || stream.closed) return;
    this.sent = true;
    // Node's compatibility response (made for every stream anyway) sends the trailers when the body ends.
    res.writeHead(200, { ...outgoingFields(this.ctx.added.header), "content-type": "application/grpc+proto" });
    res.addTrailers(trailers);
    if (body) res.end(body);
    else res.end();
  }
}
