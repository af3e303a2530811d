import type { DescMethod } from "@bufbuild/protobuf";
import type { ContextValues } from "@connectrpc/connect";

/**
 * Which server code received the call: the unary gRPC path on the HTTP/2 server
 * (src/transport/grpc-unary.ts), the Connect unary path on HTTP/1.1 and HTTP/2
 * (src/transport/connect-unary.ts), or connect-node's handler (every protocol, streaming included).
 */
export type ServerPath = "grpc_unary" | "connect_unary" | "connect_node";

/** What the call pipeline knows of a call, whichever protocol and server path carried it. */
export interface Call {
  readonly method: DescMethod;
  /** gRPC or gRPC-Web (rpc.system "grpc"), else the Connect protocol. */
  readonly grpc: boolean;
  readonly path: ServerPath;
  /** The caller identity and connection (src/callers/caller-context.ts, src/rpc/connection.ts). */
  readonly values: ContextValues;
  /** The request message of a unary call; streaming calls carry none. */
  readonly unary: { readonly message: unknown } | undefined;
  /** A request header by lower-case name (trace context). */
  header(name: string): string | undefined;
  headerNames(): Iterable<string>;
}

/**
 * One cross-cutting step of every call (caller policy, error mapping, telemetry): it may refuse
 * the call, or run `next` (the rest of the pipeline and the handler) and observe its outcome.
 */
export type CallStage = <T>(call: Call, next: () => Promise<T>) => Promise<T>;

/** The stages as one, the first outermost. */
export function callPipeline(...stages: readonly CallStage[]): CallStage {
  return <T>(call: Call, next: () => Promise<T>) => {
    const run = (i: number): Promise<T> => (i === stages.length ? next() : stages[i]!(call, () => run(i + 1)));
    return run(0);
  };
}
