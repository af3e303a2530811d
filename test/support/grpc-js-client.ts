import * as grpc from "@grpc/grpc-js";
import { fromBinary, toBinary, type DescService, type Message } from "@bufbuild/protobuf";
import type { GenMessage } from "@bufbuild/protobuf/codegenv2";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { StatusSchema } from "../../src/gen/google/rpc/status_pb.js";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";

/** A grpc-js client for `service`, (de)serializing with its protobuf-es schemas. */
export function grpcJsClient<C extends grpc.Client>(
  service: DescService,
  address: string,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
): C {
  const definition: grpc.ServiceDefinition = Object.fromEntries(
    service.methods.map((method) => [
      method.localName,
      {
        path: `/${service.typeName}/${method.name}`,
        requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
        responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
        requestSerialize: (message: Message) => Buffer.from(toBinary(method.input, message)),
        requestDeserialize: (bytes: Buffer) => fromBinary(method.input, bytes),
        responseSerialize: (message: Message) => Buffer.from(toBinary(method.output, message)),
        responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
      },
    ]),
  );
  const Client = grpc.makeGenericClientConstructor(definition, service.typeName);
  return new Client(address, credentials) as grpc.Client as C;
}

/** Calls a unary method of a generic grpc-js client and resolves with its response. */
export function unary<Res>(client: grpc.Client, method: string, request: unknown): Promise<Res> {
  const call = (client as unknown as Record<string, Function>)[method];
  if (!call) throw new Error(`no method ${method}`);
  return new Promise((resolve, reject) =>
    call.call(client, request, (err: grpc.ServiceError | null, res: Res) => (err ? reject(err) : resolve(res))),
  );
}

/** The google.rpc.Status details (grpc-status-details-bin) of a grpc-js error that are a `schema`. */
export function grpcErrorDetails<T extends Message>(err: grpc.ServiceError, schema: GenMessage<T>): T[] {
  const [bin] = err.metadata.get("grpc-status-details-bin");
  if (bin === undefined) return [];
  const status = fromBinary(StatusSchema, typeof bin === "string" ? Buffer.from(bin, "base64") : bin);
  return status.details.flatMap((detail) => anyUnpack(detail, schema) ?? []);
}

/** A grpc-js call whose refusal is rethrown as the ConnectError it carries (code and ErrorInfo), for expectRpcError. */
export function grpcCall<Res>(svc: { readonly grpc: grpc.Client }, method: string, request: unknown): Promise<Res> {
  return unary<Res>(svc.grpc, method, request).catch((err: grpc.ServiceError) => {
    const details = grpcErrorDetails(err, ErrorInfoSchema).map((value) => ({ desc: ErrorInfoSchema, value }));
    throw new ConnectError(err.details, err.code as number as Code, undefined, details);
  });
}
