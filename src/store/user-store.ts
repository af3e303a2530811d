import { DeleteItemCommand, GetItemCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient, type TransactWriteItem } from "@aws-sdk/client-dynamodb";
import { tenantKey } from "./keys.js";
import { isConditionFailure, storeCall } from "./store-errors.js";
import { AuthError } from "../errors.js";
import type { UserNames } from "../webauthn/ceremony.js";

function namesOf(names: UserNames): Record<string, AttributeValue> {
  return { ":name": { S: names.userName }, ":display": { S: names.displayName } };
}

/**
 * Users: the mapping from the caller's user id to the random WebAuthn user handle, and the names
 * the user's passkeys show (recorded at BeginRegistration, changed by UpdateUser).
 */
export class UserStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  /**
   * Returns the user's handle, creating the user with `candidateHandle` if new, and records the
   * names the registration shows. One atomic update (if_not_exists), so concurrent first
   * registrations agree on a single handle.
   */
  async ensureHandle(tenant: string, userId: string, candidateHandle: string, names: UserNames, now: number): Promise<string> {
    const out = await storeCall(() =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { pk: { S: tenantKey(tenant, userId) } },
          UpdateExpression:
            "SET userHandle = if_not_exists(userHandle, :h), createdAt = if_not_exists(createdAt, :now), userName = :name, displayName = :display",
          ExpressionAttributeValues: { ":h": { S: candidateHandle }, ":now": { N: String(now) }, ...namesOf(names) },
          ReturnValues: "ALL_NEW",
        }),
      ),
    );
    return out.Attributes?.userHandle?.S ?? candidateHandle;
  }

  /** The user's handle (strongly consistent); undefined when there is no record. */
  async handleOf(tenant: string, userId: string): Promise<string | undefined> {
    const out = await storeCall(() =>
      this.client.send(
        new GetItemCommand({ TableName: this.table, Key: { pk: { S: tenantKey(tenant, userId) } }, ProjectionExpression: "userHandle", ConsistentRead: true }),
      ),
    );
    return out.Item?.userHandle?.S;
  }

  /**
   * Changes the names of an existing user and returns its handle; USER_NOT_FOUND when there is no
   * record. The condition keeps it from recreating a user that DeleteUser erases meanwhile.
   */
  async updateNames(tenant: string, userId: string, names: UserNames): Promise<string> {
    try {
      const out = await storeCall(() =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: { pk: { S: tenantKey(tenant, userId) } },
            UpdateExpression: "SET userName = :name, displayName = :display",
            ConditionExpression: "attribute_exists(userHandle)",
            ExpressionAttributeValues: namesOf(names),
            ReturnValues: "ALL_NEW",
          }),
        ),
      );
      return out.Attributes?.userHandle?.S ?? "";
    } catch (err) {
      if (isConditionFailure(err)) throw new AuthError("USER_NOT_FOUND", "no such user");
      throw err;
    }
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
   * Deletes the user; returns the credential ids its record named and its handle (undefined when
   * there was no record). Atomic with every registration's addCredential: each either is among
   * them or fails. (Credentials registered before records named them are found through the
   * by-user index only.)
   */
  async delete(tenant: string, userId: string): Promise<{ readonly credentialIds: string[]; readonly userHandle: string | undefined }> {
    const out = await storeCall(() =>
      this.client.send(
        new DeleteItemCommand({ TableName: this.table, Key: { pk: { S: tenantKey(tenant, userId) } }, ReturnValues: "ALL_OLD" }),
      ),
    );
    return { credentialIds: out.Attributes?.credentialIds?.SS ?? [], userHandle: out.Attributes?.userHandle?.S };
  }
}
