import http from "node:http";
import https from "node:https";
import type { Socket } from "node:net";
import type { HttpHandlerOptions, HttpRequest, HttpResponse, RequestHandler, RequestHandlerOutput } from "@smithy/types";

export interface KeepAliveHandlerOptions {
  /** A new connection (TCP, and TLS for https) must be up within this, or the attempt fails. */
  readonly connectionTimeoutMs: number;
  /** The whole exchange, response body included, must end within this, or the attempt fails. */
  readonly requestTimeoutMs: number;
  /** Connections per origin; requests beyond it wait in the agent's queue. */
  readonly maxSockets: number;
}

/**
 * The DynamoDB client's request handler: node:http (https for an https endpoint) over keep-alive
 * agents, in place of the SDK's NodeHttpHandler, whose per-request timers and listeners (socket
 * warning, connection, request, socket and keep-alive timers, each with listeners) cost ≈ 9 % of a
 * call (bench/NOTES.md, "A lean request handler"). Here a request costs one timer, for the request
 * timeout; the connection timeout is armed once per new connection, in the agent. The response
 * body is read here, inside the request timeout, and handed to the SDK as bytes (the SDK's
 * deserialisers take a Uint8Array body as is).
 *
 * Errors keep the SDK's retry classification: timeouts and lost connections are `TimeoutError`
 * (transient: the standard retry strategy tries again), an abort is `AbortError` (not retried).
 */
export class KeepAliveHttpHandler implements RequestHandler<HttpRequest, HttpResponse, HttpHandlerOptions> {
  readonly metadata = { handlerProtocol: "http/1.1" };
  readonly #requestTimeoutMs: number;
  readonly #http: http.Agent;
  readonly #https: https.Agent;

  constructor(opts: KeepAliveHandlerOptions) {
    this.#requestTimeoutMs = opts.requestTimeoutMs;
    const agentOptions = { keepAlive: true, maxSockets: opts.maxSockets };
    this.#http = withConnectionTimeout(new http.Agent(agentOptions), opts.connectionTimeoutMs, "connect");
    this.#https = withConnectionTimeout(new https.Agent(agentOptions), opts.connectionTimeoutMs, "secureConnect");
  }

  handle(request: HttpRequest, options: HttpHandlerOptions = {}): Promise<RequestHandlerOutput<HttpResponse>> {
    // The SDK's deprecated signal type (onabort only) is not one a caller of this service passes.
    const abortSignal = options.abortSignal as AbortSignal | undefined;
    if (abortSignal?.aborted) return Promise.reject(abortError());
    if (Object.keys(request.query ?? {}).length > 0) return Promise.reject(new Error("DynamoDB requests carry no query string"));
    const tls = request.protocol === "https:";
    return new Promise((resolve, reject) => {
      const req = (tls ? https : http).request(
        {
          agent: tls ? this.#https : this.#http,
          host: unbracketed(request.hostname),
          port: request.port,
          method: request.method,
          path: request.path, // DynamoDB's JSON protocol posts to "/"
          headers: request.headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            settle();
            const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
            resolve({ response: { statusCode: res.statusCode ?? -1, reason: res.statusMessage, headers: joined(res.headers), body } });
          });
          res.on("error", fail); // the connection closed before the body ended
        },
      );
      const timeoutMs = options.requestTimeout ?? this.#requestTimeoutMs;
      const timer = setTimeout(() => req.destroy(timeoutError(`DynamoDB request exceeded the ${timeoutMs} ms request timeout`)), timeoutMs);
      const onAbort = () => req.destroy(abortError());
      abortSignal?.addEventListener("abort", onAbort, { once: true });
      const settle = () => {
        clearTimeout(timer);
        abortSignal?.removeEventListener("abort", onAbort);
      };
      function fail(err: Error & { code?: string }) {
        settle();
        reject(LOST_CONNECTION.has(err.code ?? "") ? Object.assign(err, { name: "TimeoutError" }) : err);
      }
      req.on("error", fail);
      req.end(request.body as string | Uint8Array | undefined); // DynamoDB bodies are JSON text, never streams
    });
  }

  /** The handler's settings are fixed at construction; the SDK's runtime extensions have none to change. */
  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  destroy(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}

/** Node's codes for a connection lost mid-request, which NodeHttpHandler also reports as TimeoutError. */
const LOST_CONNECTION = new Set(["ECONNRESET", "EPIPE", "ETIMEDOUT"]);

function timeoutError(message: string): Error {
  return Object.assign(new Error(message), { name: "TimeoutError", code: "ETIMEDOUT" });
}

function abortError(): Error {
  return Object.assign(new Error("Request aborted"), { name: "AbortError" });
}

type ConnectionFactory = (options: unknown, callback: unknown) => Socket;

/**
 * Arms the connection timeout on each new socket of `agent`, cleared at `established` ("connect",
 * or "secureConnect" so that a TLS handshake is bounded too): a kept-alive connection costs the
 * requests that reuse it nothing.
 */
function withConnectionTimeout<A extends http.Agent>(agent: A, timeoutMs: number, established: "connect" | "secureConnect"): A {
  const holder = agent as unknown as { createConnection: ConnectionFactory };
  const create = holder.createConnection.bind(agent);
  holder.createConnection = (options, callback) => {
    const socket = create(options, callback);
    const timer = setTimeout(() => socket.destroy(timeoutError(`DynamoDB connection not established within ${timeoutMs} ms`)), timeoutMs);
    const clear = () => clearTimeout(timer);
    socket.once(established, clear);
    socket.once("close", clear);
    return socket;
  };
  return agent;
}

/** An IPv6 literal arrives as "[::1]"; node:http wants it bare. */
function unbracketed(hostname: string): string {
  return hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
}

/** Node gives a repeated response header as an array; the SDK expects one comma-joined string. */
function joined(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = Array.isArray(value) ? value.join(",") : value;
  return out;
}
