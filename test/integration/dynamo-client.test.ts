/**
 * The service's DynamoDB client resolves its middleware stack once per command class
 * (cacheMiddleware), yet middleware added or removed after a command was sent still takes effect:
 * the store-health and metrics middleware are added after createTables has sent commands.
 */
import { type DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
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

/** The access key ids of the signatures `dynamo` sends, read after signing. */
function signedWith(dynamo: DynamoDBClient): string[] {
  const keys: string[] = [];
  dynamo.middlewareStack.add(
    (next) => async (args) => {
      const auth = String((args.request as { headers: Record<string, string> }).headers.authorization);
      keys.push(/Credential=([^/]+)\//.exec(auth)?.[1] ?? "unsigned");
      return next(args);
    },
    // The deserialize step runs after signing (finalizeRequest), on the request as sent.
    { step: "deserialize", name: "readSignature" },
  );
  return keys;
}

describe("createDynamoClient's lean set-up", () => {
  it("signs every request with the credentials the provider gives now: refreshed credentials are used, never frozen", async () => {
    const dynamo = createDynamoClient({ endpoint: inject("dynamoEndpoint"), region: "us-east-1", localCredentials: false });
    let issued = 0;
    // Short-lived credentials, as IRSA's web identity gives: the SDK refreshes them before expiry.
    dynamo.config.credentials = async () => ({ accessKeyId: `AKID${++issued}`, secretAccessKey: "s", expiration: new Date(Date.now() + 60_000) });
    const keys = signedWith(dynamo);
    await dynamo.send(listTables());
    await dynamo.send(listTables());
    await dynamo.send(listTables());
    // Each signature carries the credentials issued last (the SDK asks the provider more than once a request).
    expect(new Set(keys).size).toBe(3);
    expect(keys.at(-1)).toBe(`AKID${issued}`);
    dynamo.destroy();
  });

  it("uses DYNAMODB_ENDPOINT, or the region's endpoint by the SDK's own rules, and drops only the unneeded middleware", async () => {
    const local = client();
    expect(local.config.endpointProvider({}).url.href).toBe(`${inject("dynamoEndpoint")}/`);
    const regional = createDynamoClient({ endpoint: undefined, region: "eu-west-1", localCredentials: true });
    expect(regional.config.endpointProvider({}).url.href).toBe("https://dynamodb.eu-west-1.amazonaws.com/");
    const china = createDynamoClient({ endpoint: undefined, region: "cn-north-1", localCredentials: true });
    expect(china.config.endpointProvider({}).url.href).toBe("https://dynamodb.cn-north-1.amazonaws.com.cn/");
    const names = local.middlewareStack.identify().join(" ");
    expect(names).not.toMatch(/getUserAgentMiddleware|recursionDetectionMiddleware|loggerMiddleware/);
    expect(names).toMatch(/retryMiddleware.*httpSigningMiddleware/);
    for (const c of [local, regional, china]) c.destroy();
  });

  it("keeps one signer for every request", async () => {
    const dynamo = client();
    const signer = dynamo.config.signer;
    expect(await signer()).toBe(await signer());
    dynamo.destroy();
  });
});
