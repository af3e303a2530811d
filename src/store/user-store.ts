import { DeleteItemCommand, UpdateItemCommand, type DynamoDBClient, type TransactWriteItem } from "@aws-sdk/client-dynamodb";
import { tenantKey } from "./keys.js";
import { storeCall } from "./store-errors.js";

/** Users: the mapping from the caller's user id to the random WebAuthn user handle. */
export class UserStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  /**
   * Returns the user's handle, creating the user with `candidateHandle` if new. One atomic
   * update (if_not_exists), so concurrent first registrations agree on a single handle.
   */
  async ensureHandle(tenant: string, userId: string, candidateHandle: string, now: number): Promise<string> {
    const out = await storeCall(() =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { pk: { S: tenantKey(tenant, userId) } },
          UpdateExpression: "SET userHandle = if_not_exists(userHandle, :h), createdAt = if_not_exists(createdAt, :now)",
          ExpressionAttributeValues: { ":h": { S: candidateHandle }, ":now": { N: String(now) } },
          ReturnValues: "ALL_NEW",
        }),
      ),
    );
    return out.Attributes?.userHandle?.S ?? candidateHandle;
  }

  /**
   * A transaction's part that records `credentialId` on the user, on the condition that the user
   * still has `userHandle`: it fails once the user was erased, also when the same user id has
   * since begun anew (a new handle). A registration's write carries it, so an erase voids every
   * ceremony begun before it, and the erase learns every credential from the record it deletes.
   */
  addCredential(tenant: string, userId: string, userHandle: string, credentialId: string): TransactWriteItem {
    return {
      Update: {
        TableName: this.table,
        Key: { pk: { S: tenantKey(tenant, userId) } },
        UpdateExpression: "ADD credentialIds :id",
        ConditionExpression: "userHandle = :h",
        ExpressionAttributeValues: { ":h": { S: userHandle }, ":id": { SS: [credentialId] } },
      },
    };
  }

  /**
   * Deletes the user; returns the credential ids its record named. Atomic with every
   * registration's addCredential: each either is among them or fails. (Credentials registered
   * before records named them are found through the by-user index only.)
   */
  async delete(tenant: string, userId: string): Promise<string[]> {
    const out = await storeCall(() =>
      this.client.send(
        new DeleteItemCommand({ TableName: this.table, Key: { pk: { S: tenantKey(tenant, userId) } }, ReturnValues: "ALL_OLD" }),
      ),
    );
    return out.Attributes?.credentialIds?.SS ?? [];
  }
}
