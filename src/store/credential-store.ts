import {
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import { AuthError, unauthenticated } from "../errors.js";
import type { CredentialDescriptor, StoredCredential } from "../webauthn/ceremony.js";
import { tenantKey } from "./keys.js";
import { isConditionFailure, storeCall } from "./store-errors.js";
import { CREDENTIALS_BY_USER_INDEX } from "./tables.js";

type Item = Record<string, AttributeValue>;

function toItem(c: StoredCredential): Item {
  return {
    pk: { S: tenantKey(c.tenant, c.credentialId) },
    userKey: { S: tenantKey(c.tenant, c.userId) },
    userId: { S: c.userId },
    userHandle: { S: c.userHandle },
    publicKey: { B: c.publicKey },
    counter: { N: String(c.counter) },
    transports: { L: c.transports.map((t) => ({ S: t })) },
    aaguid: { S: c.aaguid },
    fmt: { S: c.attestationFormat },
    uv: { BOOL: c.userVerified },
    be: { BOOL: c.backupEligible },
    bs: { BOOL: c.backedUp },
    name: { S: c.name },
    createdAt: { N: String(c.createdAt) },
  };
}

function optionalNumber(value: AttributeValue | undefined): number | undefined {
  return value?.N === undefined ? undefined : Number(value.N);
}

function fromItem(tenant: string, item: Item): StoredCredential {
  const pk = item.pk?.S ?? "";
  return {
    tenant,
    credentialId: pk.slice(tenant.length + 1),
    userId: item.userId?.S ?? "",
    userHandle: item.userHandle?.S ?? "",
    publicKey: item.publicKey?.B ?? new Uint8Array(),
    counter: Number(item.counter?.N ?? 0),
    transports: (item.transports?.L ?? []).map((t) => t.S ?? ""),
    aaguid: item.aaguid?.S ?? "",
    attestationFormat: item.fmt?.S ?? "",
    userVerified: item.uv?.BOOL ?? false,
    backupEligible: item.be?.BOOL ?? false,
    backedUp: item.bs?.BOOL ?? false,
    name: item.name?.S ?? "",
    createdAt: Number(item.createdAt?.N ?? 0),
    lastUsedAt: optionalNumber(item.lastUsedAt),
    revokedAt: optionalNumber(item.revokedAt),
  };
}

/** What a verified assertion changes on its credential. */
export interface AssertionUpdate {
  readonly tenant: string;
  readonly credentialId: string;
  readonly userId: string;
  readonly newCounter: number;
  readonly backedUp: boolean;
  readonly usedAt: number;
}

/** Credentials: one item per credential id, listed per user through the by-user index. */
export class CredentialStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  /**
   * Stores a new credential. The condition makes a credential id unique across all users of the
   * tenant (WebAuthn §7.1 step 22) without a prior read, also under concurrent registrations.
   */
  async create(credential: StoredCredential): Promise<void> {
    try {
      await storeCall(() =>
        this.client.send(
          new PutItemCommand({
            TableName: this.table,
            Item: toItem(credential),
            ConditionExpression: "attribute_not_exists(pk)",
          }),
        ),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      throw new AuthError("CREDENTIAL_EXISTS", "this credential is already registered");
    }
  }

  /** Strongly consistent, so a credential registered on another replica a moment ago is found. */
  async get(tenant: string, credentialId: string): Promise<StoredCredential | undefined> {
    const out = await storeCall(() =>
      this.client.send(
        new GetItemCommand({
          TableName: this.table,
          Key: { pk: { S: tenantKey(tenant, credentialId) } },
          ConsistentRead: true,
        }),
      ),
    );
    return out.Item ? fromItem(tenant, out.Item) : undefined;
  }

  /** The user's usable credentials (GSI, eventually consistent), oldest first. */
  async listForUser(tenant: string, userId: string): Promise<CredentialDescriptor[]> {
    const descriptors: CredentialDescriptor[] = [];
    let startKey: Item | undefined;
    do {
      const page = await storeCall(() =>
        this.client.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: CREDENTIALS_BY_USER_INDEX,
            KeyConditionExpression: "userKey = :u",
            FilterExpression: "attribute_not_exists(revokedAt)",
            ProjectionExpression: "pk, transports",
            ExpressionAttributeValues: { ":u": { S: tenantKey(tenant, userId) } },
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        const c = fromItem(tenant, item);
        descriptors.push({ id: c.credentialId, transports: c.transports });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return descriptors;
  }

  /**
   * Records a verified assertion with ONE conditional update. The condition is the source of
   * truth for ownership, revocation and the signature counter (monotonic; 0 → 0 allowed for
   * authenticators that never count), so a stale cache on any replica cannot weaken them.
   */
  async recordAssertion(u: AssertionUpdate): Promise<void> {
    const counterCondition = u.newCounter === 0 ? "#counter = :c" : "#counter < :c";
    try {
      await storeCall(() =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: { pk: { S: tenantKey(u.tenant, u.credentialId) } },
            UpdateExpression: "SET #counter = :c, lastUsedAt = :now, bs = :bs",
            ConditionExpression: `attribute_exists(pk) AND userId = :user AND attribute_not_exists(revokedAt) AND ${counterCondition}`,
            ExpressionAttributeNames: { "#counter": "counter" },
            ExpressionAttributeValues: {
              ":c": { N: String(u.newCounter) },
              ":now": { N: String(u.usedAt) },
              ":bs": { BOOL: u.backedUp },
              ":user": { S: u.userId },
            },
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          }),
        ),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const old = err.Item;
      if (!old) throw unauthenticated("CREDENTIAL_UNKNOWN", "unknown credential");
      if (old.userId?.S !== u.userId) throw unauthenticated("USER_MISMATCH", "credential belongs to another user");
      if (old.revokedAt) throw unauthenticated("CREDENTIAL_REVOKED", "the credential has been revoked");
      throw unauthenticated("COUNTER_REGRESSION", "signature counter did not advance; possible cloned authenticator");
    }
  }
}
