import { create, fromBinary, toBinary, type DescFile, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import type { GenFile } from "@bufbuild/protobuf/codegenv2";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectRouter, type ServiceImpl } from "@connectrpc/connect";
import { file_grpc_health_v1_health } from "../gen/grpc/health/v1/health_pb.js";
import * as v1 from "../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../gen/grpc/reflection/v1alpha/reflection_pb.js";

type Answer = v1.ServerReflectionResponse["messageResponse"];

/**
 * Routes serving gRPC server reflection (v1, and v1alpha for older clients such as grpcurl)
 * for the services in `files`, the health service and reflection itself.
 */
export function reflectionRoutes(files: GenFile[]): (router: ConnectRouter) => void {
  const answer = reflector([
    ...files,
    file_grpc_health_v1_health,
    v1.file_grpc_reflection_v1_reflection,
    v1alpha.file_grpc_reflection_v1alpha_reflection,
  ]);
  // v1alpha has the same wire format as v1, so it is served by re-encoding through v1.
  const toV1 = recode(v1alpha.ServerReflectionRequestSchema, v1.ServerReflectionRequestSchema);
  const toV1alpha = recode(v1.ServerReflectionResponseSchema, v1alpha.ServerReflectionResponseSchema);
  return (router) => {
    router.service(v1.ServerReflection, {
      serverReflectionInfo: (requests) => respond(requests, answer),
    } satisfies ServiceImpl<typeof v1.ServerReflection>);
    router.service(v1alpha.ServerReflection, {
      serverReflectionInfo: (requests) => respond(requests, (request) => toV1alpha(answer(toV1(request)))),
    } satisfies ServiceImpl<typeof v1alpha.ServerReflection>);
  };
}

/** Answers reflection requests from `files` and everything they import; the lookups are built once. */
function reflector(files: DescFile[]): (request: v1.ServerReflectionRequest) => v1.ServerReflectionResponse {
  const services = [...new Set(files.flatMap((file) => file.services.map((service) => service.typeName)))];
  const byFileName = new Map<string, DescFile>();
  const bySymbol = new Map<string, DescFile>();
  const encoded = new Map<DescFile, Uint8Array>();

  const index = (file: DescFile): void => {
    if (encoded.has(file)) return;
    encoded.set(file, toBinary(FileDescriptorProtoSchema, file.proto));
    byFileName.set(file.proto.name, file); // DescFile.name lacks the ".proto" suffix
    for (const type of nestedTypes(file)) {
      bySymbol.set(type.typeName, file);
      const members = type.kind === "message" ? type.fields : type.kind === "service" ? type.methods : [];
      for (const member of members) bySymbol.set(`${type.typeName}.${member.name}`, file);
    }
    file.dependencies.forEach(index);
  };
  files.forEach(index);

  // The file first, then its transitive imports, as clients need all of them to build descriptors.
  const withImports = (file: DescFile | undefined, what: string): Answer => {
    if (!file) return notFound(what);
    const closure = new Set<DescFile>();
    const visit = (f: DescFile): void => {
      if (closure.has(f)) return;
      closure.add(f);
      f.dependencies.forEach(visit);
    };
    visit(file);
    const fileDescriptorProto = [...closure].map((f) => encoded.get(f)!);
    return { case: "fileDescriptorResponse", value: create(v1.FileDescriptorResponseSchema, { fileDescriptorProto }) };
  };

  const answer = ({ messageRequest: req }: v1.ServerReflectionRequest): Answer => {
    switch (req.case) {
      case "listServices":
        return {
          case: "listServicesResponse",
          value: create(v1.ListServiceResponseSchema, { service: services.map((name) => ({ name })) }),
        };
      case "fileByFilename":
        return withImports(byFileName.get(req.value), `file ${req.value}`);
      case "fileContainingSymbol":
        return withImports(bySymbol.get(req.value), `symbol ${req.value}`);
      case "fileContainingExtension":
        // None of the served files declare extensions.
        return notFound(`extension ${req.value.containingType}.${req.value.extensionNumber}`);
      case "allExtensionNumbersOfType":
        return {
          case: "allExtensionNumbersResponse",
          value: create(v1.ExtensionNumberResponseSchema, { baseTypeName: req.value }),
        };
      case undefined:
        return error(Code.InvalidArgument, "empty reflection request");
    }
  };

  return (request) =>
    create(v1.ServerReflectionResponseSchema, {
      validHost: request.host,
      originalRequest: request,
      messageResponse: answer(request),
    });
}

function notFound(what: string): Answer {
  return error(Code.NotFound, `${what} not found`);
}

// connect's Code values are the gRPC status codes that error_code carries.
function error(code: Code, errorMessage: string): Answer {
  return { case: "errorResponse", value: create(v1.ErrorResponseSchema, { errorCode: code, errorMessage }) };
}

/** Converts a message into the message of the same wire format from another package. */
function recode<From extends DescMessage, To extends DescMessage>(from: From, to: To) {
  return (message: MessageShape<From>): MessageShape<To> => fromBinary(to, toBinary(from, message));
}

async function* respond<I, O>(requests: AsyncIterable<I>, answer: (request: I) => O): AsyncGenerator<O> {
  for await (const request of requests) yield answer(request);
}
