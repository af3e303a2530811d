import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { create } from "@bufbuild/protobuf";
import { grpcJsClient } from "../support/grpc-js-client.js";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { file_authn_v1_auth_service } from "../../src/gen/authn/v1/auth_service_pb.js";
import {
  Health,
  HealthCheckRequestSchema,
  HealthCheckResponse_ServingStatus as Status,
  type HealthCheckRequest,
  type HealthCheckResponse,
} from "../../src/gen/grpc/health/v1/health_pb.js";
import {
  ServerReflection,
  ServerReflectionRequestSchema,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from "../../src/gen/grpc/reflection/v1/reflection_pb.js";
import { HealthState, healthRoutes } from "../../src/rpc/health.js";
import { reflectionRoutes } from "../../src/rpc/reflection.js";

// The methods that makeGenericClientConstructor adds, which its own types leave untyped.
interface ReflectionClient extends grpc.Client {
  serverReflectionInfo(): grpc.ClientDuplexStream<ServerReflectionRequest, ServerReflectionResponse>;
}
interface HealthClient extends grpc.Client {
  check(request: HealthCheckRequest, callback: grpc.requestCallback<HealthCheckResponse>): grpc.ClientUnaryCall;
}

describe("reflection and health over HTTP/2 with a grpc-js client", () => {
  const server = http2.createServer(
    connectNodeAdapter({
      routes: (router) => {
        healthRoutes(new HealthState())(router);
        reflectionRoutes([file_authn_v1_auth_service])(router);
      },
    }),
  );
  let reflection: ReflectionClient;
  let health: HealthClient;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    reflection = grpcJsClient(ServerReflection, address);
    health = grpcJsClient(Health, address);
  });

  afterAll(async () => {
    reflection?.close();
    health?.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it("lists services over the bidi stream", async () => {
    const call = reflection.serverReflectionInfo();
    const responses: ServerReflectionResponse[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on("data", (response: ServerReflectionResponse) => responses.push(response));
      call.on("end", resolve);
      call.on("error", reject);
    });
    call.write(create(ServerReflectionRequestSchema, { messageRequest: { case: "listServices", value: "" } }));
    call.end();
    await ended;

    expect(responses).toHaveLength(1);
    const answer = responses[0]!.messageResponse;
    expect(answer.case).toBe("listServicesResponse");
    const names = answer.case === "listServicesResponse" ? answer.value.service.map((s) => s.name) : [];
    expect(names).toContain("authn.v1.AuthService");
  });

  it("checks health", async () => {
    const response = await new Promise<HealthCheckResponse>((resolve, reject) =>
      health.check(create(HealthCheckRequestSchema), (err, res) => (err ? reject(err) : resolve(res!))),
    );
    expect(response.status).toBe(Status.SERVING);
  });
});
