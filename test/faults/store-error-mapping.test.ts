import { randomUUID } from "node:crypto";
import { QueryCommand } from "@aws-sdk/client-dynamodb";
import { Code, type ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { AUTH_SERVICE_NAME } from "../../src/app.js";
import { AuthError } from "../../src/errors.js";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { HealthCheckResponse_ServingStatus as Status } from "../../src/gen/grpc/health/v1/health_pb.js";
import { createDynamoClient } from "../../src/store/client.js";
import { storeCall } from "../../src/store/store-errors.js";
import { STORE_DOWN_AFTER_FAILURES } from "../../src/store/store-health.js";
import { tableNames } from "../../src/store/tables.js";
import { generateSigningKey } from "../../src/tokens/signing-key.js";
import { expectRpcError } from "../support/ceremonies.js";
import { closeAll, createTestTables, startTestService, TestClock, type TestService } from "../support/service.js";
import { startFaultyService, StoreFaults } from "../support/store-faults.js";

const storeErrorOf = (err: ConnectError) => err.findDetails(ErrorInfoSchema)[0]?.metadata["store_error"];

describe("store errors the request caused are not outages (issue 13 sweep)", () => {
  const faults = new StoreFaults();
  let svc: TestService;

  beforeAll(async () => {
    svc = await startFaultyService(faults);
  });
  afterAll(() => closeAll(svc));

  it.each(["ValidationException", "ItemCollectionSizeLimitExceededException", "SerializationException"])(
    "%s: INTERNAL (store_error rejected), tried once, and the service stays SERVING",
    async (name) => {
      faults.attempts = 0;
      faults.failWith = name;
      try {
        for (let i = 0; i < STORE_DOWN_AFTER_FAILURES + 1; i++) {
          const err = await expectRpcError(svc.connect.beginAuthentication({ userId: `${name}-${i}` }), Code.Internal, "INTERNAL");
          expect(storeErrorOf(err)).toBe("rejected");
          expect(err.rawMessage).toBe("internal error");
        }
      } finally {
        faults.failWith = undefined;
      }
      expect(faults.attempts).toBe(STORE_DOWN_AFTER_FAILURES + 1);
      expect(svc.app.health.status(AUTH_SERVICE_NAME)).toBe(Status.SERVING);
    },
  );

  it.each(["AccessDeniedException", "UnrecognizedClientException", "ExpiredTokenException"])(
    "%s: UNAVAILABLE (store_error misconfigured), NOT_SERVING until a request succeeds again",
    // Each call names a new user: a user's credential list, once read, is served from the cache.
    async (name) => {
      faults.failWith = name;
      try {
        for (let i = 0; i < STORE_DOWN_AFTER_FAILURES; i++) {
          const err = await expectRpcError(svc.connect.beginAuthentication({ userId: `${name}-${i}` }), Code.Unavailable, "STORE_UNAVAILABLE");
          expect(storeErrorOf(err)).toBe("misconfigured");
        }
        expect(svc.app.health.status(AUTH_SERVICE_NAME)).toBe(Status.NOT_SERVING);
      } finally {
        faults.failWith = undefined;
      }
      await svc.connect.beginAuthentication({ userId: `${name}-recovered` });
      expect(svc.app.health.status(AUTH_SERVICE_NAME)).toBe(Status.SERVING);
    },
  );
});

describe("real DynamoDB Local errors", () => {
  it("a missing table is UNAVAILABLE with store_error misconfigured and takes the replica out of service", async () => {
    const dynamo = createDynamoClient({ endpoint: inject("dynamoEndpoint"), region: "us-east-1", localCredentials: true });
    const svc = await startTestService({ dynamo, tablePrefix: `missing-${randomUUID()}-`, signingKey: await generateSigningKey(), clock: new TestClock() });
    try {
      for (let i = 0; i < STORE_DOWN_AFTER_FAILURES; i++) {
        const err = await expectRpcError(svc.connect.beginAuthentication({ userId: "nobody" }), Code.Unavailable, "STORE_UNAVAILABLE");
        expect(storeErrorOf(err)).toBe("misconfigured");
      }
      expect(svc.app.health.status(AUTH_SERVICE_NAME)).toBe(Status.NOT_SERVING);
    } finally {
      await closeAll(svc);
      dynamo.destroy();
    }
  });

  it("DynamoDB's ValidationException (a start key from another partition) is INTERNAL, not STORE_UNAVAILABLE", async () => {
    const dynamo = createDynamoClient({ endpoint: inject("dynamoEndpoint"), region: "us-east-1", localCredentials: true });
    const { dynamo: tablesClient, tablePrefix } = await createTestTables();
    tablesClient.destroy();
    try {
      const query = new QueryCommand({
        TableName: tableNames(tablePrefix).audit,
        KeyConditionExpression: "pk = :p",
        ExpressionAttributeValues: { ":p": { S: "default#u#a" } },
        ExclusiveStartKey: { pk: { S: "default#u#b" }, sk: { S: "0000000000000#x" } },
      });
      const err = await storeCall(() => dynamo.send(query)).catch((e: unknown) => e);
      expect((err as { cause?: { name?: string } }).cause?.name).toBe("ValidationException");
      expect(err).toBeInstanceOf(AuthError);
      expect(err).toMatchObject({ reason: "INTERNAL", metadata: { store_error: "rejected" } });
    } finally {
      dynamo.destroy();
    }
  });
});
