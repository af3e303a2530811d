import { describe, expect, it } from "vitest";
import { createFileRegistry, fromBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { createClient, createRouterTransport } from "@connectrpc/connect";
import { file_authn_v1_auth_service } from "../../src/gen/authn/v1/auth_service_pb.js";
import * as v1 from "../../src/gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../src/gen/grpc/reflection/v1alpha/reflection_pb.js";
import { reflectionRoutes } from "../../src/rpc/reflection.js";

type Answer = v1.ServerReflectionResponse["messageResponse"];
type Case = NonNullable<Answer["case"]>;

const transport = createRouterTransport(reflectionRoutes([file_authn_v1_auth_service]));

async function ask(
  service: typeof v1.ServerReflection | typeof v1alpha.ServerReflection,
  request: MessageInitShape<typeof v1.ServerReflectionRequestSchema>,
): Promise<Answer> {
  // The two versions differ only in their type names, so the v1 types describe either.
  const client = createClient(service as typeof v1.ServerReflection, transport);
  async function* requests() {
    yield request;
  }
  for await (const response of client.serverReflectionInfo(requests())) return response.messageResponse;
  throw new Error("no response");
}

type ValueOf<C extends Case> = Extract<Answer, { case: C }> extends { value: infer V } ? V : never;

function valueOf<C extends Case>(answer: Answer, expected: C): ValueOf<C> {
  expect(answer.case).toBe(expected);
  return answer.value as ValueOf<C>;
}

function files(answer: Answer) {
  return valueOf(answer, "fileDescriptorResponse").fileDescriptorProto.map((bytes) =>
    fromBinary(FileDescriptorProtoSchema, bytes),
  );
}

function fileNames(answer: Answer): string[] {
  return files(answer).map((file) => file.name);
}

describe.each([
  ["v1", v1.ServerReflection],
  ["v1alpha", v1alpha.ServerReflection],
] as const)("reflection %s", (_, service) => {
  it("lists the served services", async () => {
    const answer = await ask(service, { messageRequest: { case: "listServices", value: "" } });
    expect(valueOf(answer, "listServicesResponse").service.map((s) => s.name).sort()).toEqual([
      "authn.v1.AuthService",
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
    ]);
  });

  it.each(["authn.v1.AuthService", "authn.v1.AuthService.BeginRegistration", "authn.v1.Credential.created_at"])(
    "returns the file defining %s with its imports",
    async (symbol) => {
      const answer = await ask(service, { messageRequest: { case: "fileContainingSymbol", value: symbol } });
      const [first, ...imports] = fileNames(answer);
      expect(first).toBe("authn/v1/auth_service.proto");
      expect(imports.sort()).toEqual([
        "authn/v1/audit.proto",
        "authn/v1/sessions.proto",
        "authn/v1/step_up.proto",
        "google/protobuf/duration.proto",
        "google/protobuf/timestamp.proto",
      ]);
    },
  );

  it("returns files that build a complete registry, as a client does", async () => {
    const answer = await ask(service, { messageRequest: { case: "fileContainingSymbol", value: "authn.v1.AuthService" } });
    const [file, ...imports] = files(answer);
    const registry = createFileRegistry(file!, (name) => imports.find((i) => i.name === name));
    expect(registry.getService("authn.v1.AuthService")?.methods.map((m) => m.name)).toContain("FinishAuthentication");
  });

  it("returns a file by name", async () => {
    const answer = await ask(service, {
      messageRequest: { case: "fileByFilename", value: "google/protobuf/timestamp.proto" },
    });
    expect(fileNames(answer)).toEqual(["google/protobuf/timestamp.proto"]);
  });

  it.each([
    { case: "fileContainingSymbol", value: "nope.v1.Nope" },
    { case: "fileByFilename", value: "nope.proto" },
    { case: "fileContainingExtension", value: { containingType: "authn.v1.Credential", extensionNumber: 100 } },
  ] as const)("answers NOT_FOUND for an unknown $case", async (messageRequest) => {
    const answer = await ask(service, { messageRequest });
    expect(valueOf(answer, "errorResponse").errorCode).toBe(5);
  });

  it("answers no extension numbers", async () => {
    const answer = await ask(service, {
      messageRequest: { case: "allExtensionNumbersOfType", value: "authn.v1.Credential" },
    });
    expect(valueOf(answer, "allExtensionNumbersResponse").extensionNumber).toEqual([]);
  });
});
