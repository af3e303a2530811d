import type { DescMessage, DescMethodUnary } from "@bufbuild/protobuf";
import { type ConnectRouter, createMethodImplSpec, createServiceImplSpec, type MethodImplSpec } from "@connectrpc/connect";
import { createMethodSerializationLookup, type MethodSerializationLookup, type UniversalHandlerOptions } from "@connectrpc/connect/protocol";

/** A unary RPC the lean unary paths serve themselves, with connect's binary and JSON serialization for it. */
export interface UnaryMethod {
  readonly method: DescMethodUnary;
  readonly impl: Extract<MethodImplSpec, { kind: "unary" }>["impl"];
  readonly serialization: MethodSerializationLookup<DescMessage, DescMessage>;
}

/** The unary RPCs by request path (`/package.Service/Method`). */
export type UnaryMethods = ReadonlyMap<string, UnaryMethod>;

/**
 * A router that registers every RPC with connect-node's `router` (which serves all of them on
 * every protocol) and records the unary ones in `into` for the lean unary paths (gRPC, Connect), so that both
 * serve the same implementations. A service registered with options of its own (interceptors,
 * limits) is left to connect-node alone: the unary paths would not apply them.
 */
export function recordingUnaryMethods(router: ConnectRouter, into: Map<string, UnaryMethod>, opt: UniversalHandlerOptions): ConnectRouter {
  const record = (spec: MethodImplSpec) => {
    if (spec.kind !== "unary") return;
    // The options connect-node serves with (validateUniversalHandlerOptions): the same limits.
    into.set(`/${spec.method.parent.typeName}/${spec.method.name}`, {
      method: spec.method,
      impl: spec.impl,
      serialization: createMethodSerializationLookup(spec.method, opt.binaryOptions, opt.jsonOptions, opt),
    });
  };
  const recording: ConnectRouter = {
    get handlers() {
      return router.handlers;
    },
    service(service, implementation, options) {
      if (!options) Object.values(createServiceImplSpec(service, implementation).methods).forEach(record);
      router.service(service, implementation, options);
      return recording;
    },
    rpc(method, impl, options) {
      if (!options) record(createMethodImplSpec(method, impl));
      router.rpc(method, impl, options);
      return recording;
    },
  };
  return recording;
}
