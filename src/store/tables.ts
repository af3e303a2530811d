import {
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";

export interface TableNames {
  readonly challenges: string;
  readonly credentials: string;
  readonly users: string;
  readonly audit: string;
}

/** The GSI of the credentials table that lists a user's credentials. */
export const CREDENTIALS_BY_USER_INDEX = "by-user";

/**
 * What the by-user index carries besides its keys (pk, userKey, createdAt): only what
 * allowCredentials needs and nothing a sign-in changes, so a sign-in's counter update writes
 * the table alone (1 write unit), never the index.
 */
export const CREDENTIALS_BY_USER_ATTRIBUTES = ["transports", "revokedAt"];

/** The attribute DynamoDB's TTL deletes on (epoch seconds). Expiry itself is enforced in conditions. */
export const TTL_ATTRIBUTE = "ttl";

export function tableNames(prefix: string): TableNames {
  return {
    challenges: `${prefix}challenges`,
    credentials: `${prefix}credentials`,
    users: `${prefix}users`,
    audit: `${prefix}audit`,
  };
}

function definitions(names: TableNames): { input: CreateTableCommandInput; ttl: boolean }[] {
  const onDemand = { BillingMode: "PAY_PER_REQUEST" } as const;
  return [
    {
      ttl: true,
      input: {
        TableName: names.challenges,
        ...onDemand,
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      },
    },
    {
      ttl: false,
      input: {
        TableName: names.credentials,
        ...onDemand,
        AttributeDefinitions: [
          { AttributeName: "pk", AttributeType: "S" },
          { AttributeName: "userKey", AttributeType: "S" },
          { AttributeName: "createdAt", AttributeType: "N" },
        ],
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
        GlobalSecondaryIndexes: [
          {
            IndexName: CREDENTIALS_BY_USER_INDEX,
            KeySchema: [
              { AttributeName: "userKey", KeyType: "HASH" },
              { AttributeName: "createdAt", KeyType: "RANGE" },
            ],
            Projection: { ProjectionType: "INCLUDE", NonKeyAttributes: CREDENTIALS_BY_USER_ATTRIBUTES },
          },
        ],
      },
    },
    {
      ttl: false,
      input: {
        TableName: names.users,
        ...onDemand,
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      },
    },
    {
      ttl: true,
      input: {
        TableName: names.audit,
        ...onDemand,
        AttributeDefinitions: [
          { AttributeName: "pk", AttributeType: "S" },
          { AttributeName: "sk", AttributeType: "S" },
        ],
        // No secondary index: each event costs one write unit (see AuditStore for the lookups).
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
        // DynamoDB Streams feed a SIEM (see docs/audit.md); enabling them is left to the operator.
      },
    },
  ];
}

/** Creates the tables that do not exist yet and turns TTL on; safe to run any number of times. */
export async function createTables(client: DynamoDBClient, names: TableNames): Promise<string[]> {
  const created: string[] = [];
  for (const { input, ttl } of definitions(names)) {
    const TableName = input.TableName!;
    try {
      await client.send(new CreateTableCommand(input));
      created.push(TableName);
    } catch (err) {
      if (!(err instanceof ResourceInUseException)) throw err;
    }
    await waitUntilTableExists({ client, maxWaitTime: 120, minDelay: 1 }, { TableName });
    if (ttl) await enableTtl(client, TableName);
  }
  return created;
}

async function enableTtl(client: DynamoDBClient, TableName: string): Promise<void> {
  const current = await client.send(new DescribeTimeToLiveCommand({ TableName }));
  const status = current.TimeToLiveDescription?.TimeToLiveStatus;
  if (status === "ENABLED" || status === "ENABLING") return;
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName,
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
    }),
  );
}
