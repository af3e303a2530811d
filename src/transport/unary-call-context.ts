import type { IncomingHttpHeaders } from "node:http2";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { ContextValues, HandlerContext } from "@connectrpc/connect";

/**
 * The HandlerContext of a call on a lean unary path (gRPC, Connect). connect's
 * createHandlerContext makes three Headers and two linked AbortControllers per call, a
 * measurable share of a trivial call (bench/NOTES.md); here one AbortController serves deadline
 * and cancellation, and the Headers objects are made only if a handler asks for them.
 */
export class UnaryCallContext implements HandlerContext {
  readonly requestMethod = "POST";
  readonly #abort = new AbortController();
  readonly #headers: IncomingHttpHeaders;
  readonly #deadline: number | undefined;
  #requestHeader: Headers | undefined;
  #responseHeader: Headers | undefined;
  #responseTrailer: Headers | undefined;

  constructor(
    readonly protocolName: "grpc" | "connect",
    readonly method: DescMethod,
    readonly values: ContextValues,
    headers: IncomingHttpHeaders,
    timeoutMs: number | undefined,
  ) {
    this.#headers = headers;
    this.#deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
  }

  get service(): DescService {
    return this.method.parent;
  }

  get url(): string {
    return `/${this.method.parent.typeName}/${this.method.name}`;
  }

  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  readonly timeoutMs = (): number | undefined => (this.#deadline === undefined ? undefined : this.#deadline - Date.now());

  get requestHeader(): Headers {
    return (this.#requestHeader ??= headersOf(this.#headers));
  }

  get responseHeader(): Headers {
    return (this.#responseHeader ??= new Headers());
  }

  get responseTrailer(): Headers {
    return (this.#responseTrailer ??= new Headers());
  }

  /** What the handler added to the response header and trailer (undefined when it added nothing). */
  get added(): { readonly header: Headers | undefined; readonly trailer: Headers | undefined } {
    return { header: this.#responseHeader, trailer: this.#responseTrailer };
  }

  /** Aborts the handler's signal with `reason` (a ConnectError: CANCELED, DEADLINE_EXCEEDED). */
  abort(reason: Error): void {
    this.#abort.abort(reason);
  }
}

/** The request's fields without HTTP/2 pseudo-headers, as a Fetch Headers object. */
function headersOf(headers: IncomingHttpHeaders): Headers {
  const result = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(":") || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) result.append(name, v);
  }
  return result;
}
