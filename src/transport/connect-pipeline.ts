import type { Interceptor } from "@connectrpc/connect";
import type { Call, CallStage } from "../rpc/call-pipeline.js";

/** The call pipeline as connect-node's one interceptor: every call its handler serves runs it. */
export function pipelineInterceptor(pipeline: CallStage): Interceptor {
  return (next) => (req) => {
    const call: Call = {
      method: req.method,
      // Media types are case-insensitive, and connect-node serves `Application/GRPC` as gRPC.
      grpc: req.header.get("content-type")?.toLowerCase().startsWith("application/grpc") ?? false,
      path: "connect_node",
      values: req.contextValues,
      unary: req.stream ? undefined : { message: req.message },
      header: (name) => req.header.get(name) ?? undefined,
      headerNames: () => req.header.keys(),
    };
    return pipeline(call, () => next(req));
  };
}
