import type http from "node:http";
import type http2 from "node:http2";
import type { Message } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { type Compression, compressionNegotiate, type Serialization, type UniversalHandlerOptions } from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  contentTypeUnaryJson,
  contentTypeUnaryProto,
  contentTypeUnaryRegExp,
  errorToJsonBytes,
  headerProtocolVersion,
  headerTimeout,
  headerUnaryAcceptEncoding,
  headerUnaryContentLength,
  headerUnaryEncoding,
  parseContentType,
  parseTimeout,
  protocolVersion,
} from "@connectrpc/connect/protocol-connect";
import { fieldValue, outgoingFields, type RequestListener, serveUnaryCall, type UnaryExchange, type UnaryPathOptions, type UnaryReply } from "./unary-call.js";
import { UnaryCallContext } from "./unary-call-context.js";
import type { UnaryMethod } from "./unary-methods.js";

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

/**
 * Connect unary calls — a `POST` with a Connect unary content type (`application/json`, with or
 * without a UTF-8 charset, or `application/proto`; connect's own pattern) to the exact path of a
 * registered unary RPC — are served here, on HTTP/1.1 and HTTP/2; every other request by
 * `fallback` (connect-node: GET calls, streaming, gRPC-Web, a path with a query). connect-node's
 * universal handler spends a large share of such a call on async iterators, linked
 * AbortControllers aborted with a reason at the end of every call, and Headers objects
 * (bench/NOTES.md); this path reads the body, runs the same call pipeline and implementation
 * (unary-call.ts), and answers, with connect's own protocol pieces for content type, timeout,
 * compression, serialization, error JSON, HTTP status and `trailer-` fields.
 */
export function connectUnaryFirst(opts: UnaryPathOptions, fallback: RequestListener): RequestListener {
  return (req, res) => {
    const unary = req.method === "POST" ? opts.methods.get(req.url ?? "") : undefined;
    const contentType = req.headers["content-type"];
    if (unary === undefined || contentType === undefined || !contentTypeUnaryRegExp.test(contentType)) return fallback(req, res);
    // serveUnaryCall answers every failure itself; should anything still throw, the connection
    // or stream is closed rather than the process taken down by an unhandled rejection.
    serveUnaryCall(connectExchange(unary, parseContentType(contentType)?.binary === true, req, res, opts), opts.pipeline).catch(() => res.destroy());
  };
}

function connectExchange(unary: UnaryMethod, binary: boolean, req: NodeRequest, res: NodeResponse, opts: UnaryPathOptions): UnaryExchange {
  const { handlerOptions: options } = opts;
  const { headers } = req;
  const header = (name: string) => fieldValue(headers[name]);
  const timeout = parseTimeout(header(headerTimeout.toLowerCase()) ?? null, options.maxTimeoutMs);
  const compression = compressionNegotiate(
    options.acceptCompression,
    header(headerUnaryEncoding.toLowerCase()) ?? null,
    header(headerUnaryAcceptEncoding.toLowerCase()) ?? null,
    headerUnaryAcceptEncoding,
  );
  const ctx = new UnaryCallContext("connect", unary.method, opts.contextValues(req), headers, timeout.timeoutMs);
  const version = options.requireConnectProtocolHeader ? protocolVersionError(header(headerProtocolVersion.toLowerCase())) : undefined;
  return {
    unary,
    ctx,
    timeoutMs: timeout.timeoutMs,
    // connect-node's order: protocol version, compression, timeout.
    refusal: version ?? compression.error ?? timeout.error,
    async readMessage() {
      const body = await readBody(req, options.readMaxBytes, header(headerUnaryContentLength.toLowerCase()));
      const data = compression.request ? await compression.request.decompress(body, options.readMaxBytes) : body;
      return unary.serialization.getI(binary).parse(data);
    },
    call: { grpc: false, path: "connect_unary", header, headerNames: () => Object.keys(headers) },
    reply: new ConnectReply(res, ctx, unary.serialization.getO(binary), binary ? contentTypeUnaryProto : contentTypeUnaryJson, compression.response, options),
    onClose: (listener) => res.once("close", listener),
  };
}

/**
 * connect's requireProtocolVersionHeader, with its messages: protocol-connect does not export it,
 * and it reads a Headers object, which this path does not make.
 */
function protocolVersionError(value: string | undefined): ConnectError | undefined {
  if (value === undefined) return new ConnectError(`missing required header: set ${headerProtocolVersion} to "${protocolVersion}"`, Code.InvalidArgument);
  if (value !== protocolVersion) return new ConnectError(`${headerProtocolVersion} must be "${protocolVersion}": got "${value}"`, Code.InvalidArgument);
  return undefined;
}

/**
 * The request body, read as connect's readAllBytes reads it, with its limits and messages: a
 * Content-Length above readMaxBytes is refused before a byte is read; a body that outgrows its
 * Content-Length, or readMaxBytes without one, is refused as soon as it does, and the rest of it
 * is discarded as it arrives (as Node discards an unread body after the answer), never kept; one
 * shorter than its Content-Length is refused at its end. connect reads only async iterables, the
 * per-chunk promises and generator this path avoids.
 */
function readBody(req: NodeRequest, readMaxBytes: number, contentLength: string | undefined): Promise<Uint8Array> {
  const hint = contentLength === undefined ? Number.NaN : Number.parseInt(contentLength, 10);
  const known = Number.isSafeInteger(hint) && hint >= 0;
  if (known && hint > readMaxBytes) return Promise.reject(new ConnectError(`message size ${hint} is larger than configured readMaxBytes ${readMaxBytes}`, Code.ResourceExhausted));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const settle = (err: ConnectError | undefined) => {
      req.off("data", onData).off("end", onEnd).off("error", onGone).off("close", onGone);
      // Refused: stop reading, or HTTP/2 would go on accepting (and window-updating) DATA frames
      // for the rest of the stream's life (as grpc-unary.ts's envelope read does).
      if (err) {
        req.pause();
        reject(err);
      } else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      chunks.push(chunk);
      const err =
        known && received > hint
          ? new ConnectError(`protocol error: promised ${hint} bytes, received ${received}`, Code.InvalidArgument)
          : !known && received > readMaxBytes
            ? new ConnectError(`message size is larger than configured readMaxBytes ${readMaxBytes}`, Code.ResourceExhausted)
            : undefined;
      if (err) settle(err);
    };
    const onEnd = () => settle(known && received < hint ? new ConnectError(`protocol error: promised ${hint} bytes, received ${received}`, Code.InvalidArgument) : undefined);
    const onGone = () => settle(new ConnectError("the client cancelled the call", Code.Canceled));
    req.on("data", onData).once("end", onEnd).once("error", onGone).once("close", onGone);
  });
}

/**
 * connect-node's unary answer: the message with the content type of the request's format, or
 * the error JSON (code, message, details) with the HTTP status for its code and its metadata as
 * fields; compressed when the client accepts an encoding and the body reaches compressMinBytes;
 * the handler's trailer as `trailer-` fields; a Content-Length.
 */
class ConnectReply implements UnaryReply {
  sent = false;

  constructor(
    private readonly res: NodeResponse,
    private readonly ctx: UnaryCallContext,
    private readonly output: Serialization<Message>,
    private readonly contentType: string,
    private readonly compression: Compression | null,
    private readonly options: UniversalHandlerOptions,
  ) {}

  ok(output: Message): Promise<void> {
    return this.#send(200, this.contentType, this.output.serialize(output), undefined);
  }

  error(err: ConnectError): Promise<void> {
    return this.#send(codeToHttpStatus(err.code), contentTypeUnaryJson, errorToJsonBytes(err, this.options.jsonOptions), err.metadata);
  }

  /** The first answer to get here is written; the deadline may win while a body is compressed. */
  async #send(status: number, contentType: string, body: Uint8Array, metadata: Headers | undefined): Promise<void> {
    if (this.sent || this.#gone()) return;
    const fields = outgoingFields(metadata, outgoingFields(this.ctx.added.header, { "content-type": contentType }));
    let sent = body;
    if (this.compression && body.byteLength >= this.options.compressMinBytes) {
      sent = await this.compression.compress(body);
      fields[headerUnaryEncoding.toLowerCase()] = this.compression.name;
    }
    outgoingFields(this.ctx.added.trailer, fields, "trailer-");
    fields[headerUnaryContentLength.toLowerCase()] = String(sent.byteLength);
    if (this.sent || this.#gone()) return;
    this.sent = true;
    this.res.writeHead(status, fields);
    this.res.end(sent);
  }

  #gone(): boolean {
    const { res } = this;
    return "stream" in res ? res.stream.destroyed || res.stream.closed : res.destroyed;
  }
}
