/**
 * The service's DynamoDB client resolves its middleware stack once per command class
 * (cacheMiddleware), yet middleware added or removed after a command was sent still takes effect:
 * the store-health and metrics middleware are added after createTables has sent commands.
 */
import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import { createDynamoClient } from "../../src/store/client.js";

const client = () => createDynamoClient({ endpoint: inject("dynamoEndpoint"), region: "us-east-1", localCredentials: true });
const listTables = () => new ListTablesCommand({ Limit: 1 });

afterEach(() => vi.restoreAllMocks());

describe("createDynamoClient's middleware cache", () => {
  it("resolves a command's middleware once, not on every request", async () => {
    const dynamo = client();
    const resolve = vi.spyOn(ListTablesCommand.prototype, "resolveMiddleware");
    await dynamo.send(listTables());
    await dynamo.send(listTables());
    await dynamo.send(listTables());
    expect(resolve).toHaveBeenCalledTimes(1);
    dynamo.destroy();
  });

  it("runs middleware added after the command was first sent, and stops running it once removed", async () => {
    const dynamo = client();
    await dynamo.send(listTables());
    let seen = 0;
    dynamo.middlewareStack.add(
      (next) => async (args) => {
        seen += 1;
        return next(args);
      },
      { step: "initialize", name: "countRequests" },
    );
    await dynamo.send(listTables());
    await dynamo.send(listTables());
    expect(seen).toBe(2);
    expect(dynamo.middlewareStack.remove("countRequests")).toBe(true);
    await dynamo.send(listTables());
    expect(seen).toBe(2);
    dynamo.destroy();
  });
});
