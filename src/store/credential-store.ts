import {
  DeleteItemCommand,
  GetItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type QueryCommandInput,
  type TransactWriteItem,
} from "@aws-sdk/client-dynamodb";
import { AuthError, unauthenticated } from "../errors.js";
import type { CredentialDescriptor, StoredCredential } from "../webauthn/ceremony.js";
import { tenantKey } from "./keys.js";
import { boolAttribute, optionalBool, optionalNumber } from "./attributes.js";
import { queryAll } from "./query-all.js";
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
    // Extension outputs (client-reported, informational) only when reported; conditional create only when true.
    ...boolAttribute("rk", c.discoverable),
    ...boolAttribute("prf", c.prfEnabled),
    ...boolAttribute("lbs", c.largeBlobSupported),
    ...boolAttribute("cc", c.createdConditionally || undefined),
  };
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
    revocationReason: item.revocationReason?.S,
    cloneSuspectedAt: optionalNumber(item.cloneSuspectedAt),
    discoverable: optionalBool(item.rk),
    prfEnabled: optionalBool(item.prf),
    largeBlobSupported: optionalBool(item.lbs),
    createdConditionally: item.cc?.BOOL ?? false,
  };
}

/** What every write about an assertion binds: the credential, its owner, the asserted counter, the assertion's time. */
export interface AssertedCounter {
  readonly tenant: string;
  readonly credentialId: string;
  readonly userId: string;
  readonly newCounter: number;
  readonly usedAt: number;
}

/** What a verified assertion changes on its credential. */
export interface AssertionUpdate extends AssertedCounter {
  readonly backedUp: boolean;
  /** The tenant's `cloneResponse: refuse`: a clone-suspected credential is refused by the same condition. */
  readonly refuseCloneSuspected: boolean;
}

/**
 * The signature counter part of recordAssertion's condition. A counter that does not count stays
 * 0. Otherwise it must advance, unless this is the SDK retrying this very write after a lost
 * response: the stored lastUsedAt then equals ours.
 */
function counterAdvances(newCounter: number): string {
  // Parenthesised where it needs it only: DynamoDB refuses redundant parentheses, and comparisons
  // bind tighter than NOT, so `NOT #counter = :c` negates the comparison.
  return newCounter === 0 ? "#counter = :c" : "(#counter < :c OR (#counter = :c AND lastUsedAt = :now))";
}

/** Credentials: one item per credential id, listed per user through the by-user index. */
export class CredentialStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  /**
   * Stores a new credential together with `alsoWrite` (its audit event) in one transaction, so
   * neither exists without the other. The condition makes a credential id unique across all users
   * of the tenant (WebAuthn §7.1 step 22) without a prior read, also under concurrent
   * registrations; `ownerUpdate` (UserStore.addCredential) refuses a user erased since the
   * ceremony began, with no read either.
   */
  async create(credential: StoredCredential, ownerUpdate: TransactWriteItem, alsoWrite: TransactWriteItem[]): Promise<void> {
    try {
      await storeCall(() =>
        this.client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.table,
                  Item: toItem(credential),
                  ConditionExpression: "attribute_not_exists(pk)",
                },
              },
              ownerUpdate,
              ...alsoWrite,
            ],
          }),
        ),
      );
    } catch (err) {
      const failed = (i: number) =>
        err instanceof TransactionCanceledException && err.CancellationReasons?.[i]?.Code === "ConditionalCheckFailed";
      if (isConditionFailure(err) || failed(0)) throw new AuthError("CREDENTIAL_EXISTS", "this credential is already registered");
      if (failed(1)) throw unauthenticated("CHALLENGE_INVALID", "the user this ceremony was begun for has been erased since");
      throw err;
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
    const usable = await this.query(tenant, userId, {
      FilterExpression: "attribute_not_exists(revokedAt)",
      ProjectionExpression: "pk, transports",
    });
    return usable.map((c) => ({ id: c.credentialId, transports: c.transports }));
  }

  /**
   * Every credential of the user, revoked ones included, oldest first: the index names them, a
   * strongly consistent read each fetches the whole record (the index carries only a few fields).
   */
  async allForUser(tenant: string, userId: string): Promise<StoredCredential[]> {
    const named = await this.query(tenant, userId, { ProjectionExpression: "pk" });
    const found = await Promise.all(named.map((c) => this.get(tenant, c.credentialId)));
    return found.filter((c): c is StoredCredential => c !== undefined);
  }

  private async query(
    tenant: string,
    userId: string,
    narrowing: Pick<QueryCommandInput, "FilterExpression" | "ProjectionExpression">,
  ): Promise<StoredCredential[]> {
    const items = await queryAll(this.client, {
      TableName: this.table,
      IndexName: CREDENTIALS_BY_USER_INDEX,
      KeyConditionExpression: "userKey = :u",
      ExpressionAttributeValues: { ":u": { S: tenantKey(tenant, userId) } },
      ...narrowing,
    });
    return items.map((item) => fromItem(tenant, item));
  }

  /**
   * Changes a credential of `userId` with one conditional update and returns it (`returnOld`: as
   * it was before); a credential of another user or none at all is CREDENTIAL_NOT_FOUND.
   * `extraCondition` guards idempotence.
   */
  private async updateOwned(
    tenant: string,
    userId: string,
    credentialId: string,
    update: { expression: string; values: Item; names?: Record<string, string>; extraCondition?: string; returnOld?: boolean },
  ): Promise<StoredCredential> {
    try {
      const out = await storeCall(() =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: { pk: { S: tenantKey(tenant, credentialId) } },
            UpdateExpression: update.expression,
            ConditionExpression: `attribute_exists(pk) AND userId = :user${update.extraCondition ? ` AND ${update.extraCondition}` : ""}`,
            ExpressionAttributeValues: { ":user": { S: userId }, ...update.values },
            ExpressionAttributeNames: update.names,
            ReturnValues: update.returnOld ? "ALL_OLD" : "ALL_NEW",
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          }),
        ),
      );
      return fromItem(tenant, out.Attributes ?? {});
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      if (err.Item?.userId?.S === userId) return fromItem(tenant, err.Item);
      throw new AuthError("CREDENTIAL_NOT_FOUND", "the user has no such credential");
    }
  }

  /** Refuses a revoked credential (CREDENTIAL_ALREADY_REVOKED): its record stays as it was revoked. */
  async rename(tenant: string, userId: string, credentialId: string, name: string): Promise<StoredCredential> {
    const credential = await this.updateOwned(tenant, userId, credentialId, {
      expression: "SET #name = :name",
      values: { ":name": { S: name } },
      names: { "#name": "name" },
      extraCondition: "attribute_not_exists(revokedAt)",
    });
    // updateOwned returns the unchanged record when only the extra condition failed.
    if (credential.revokedAt !== undefined) throw new AuthError("CREDENTIAL_ALREADY_REVOKED", "a revoked credential cannot be renamed");
    return credential;
  }

  /** Sets revokedAt once; revoking a revoked credential returns it unchanged. */
  async revoke(tenant: string, userId: string, credentialId: string, reason: string, now: number): Promise<StoredCredential> {
    return this.updateOwned(tenant, userId, credentialId, {
      expression: "SET revokedAt = :now, revocationReason = :reason",
      values: { ":now": { N: String(now) }, ":reason": { S: reason } },
      extraCondition: "attribute_not_exists(revokedAt)",
    });
  }

  /**
   * Flags a credential clone-suspected after recordAssertion refused `u` with COUNTER_REGRESSION.
   * The flag's condition is the counter condition negated: it is set only if the stored counter,
   * at the moment of this write, still refuses u's counter (and the credential is still u's
   * owner's), so no stale read decides it. The first detection's time is kept. Resolves whether
   * the credential is flagged.
   */
  async flagCloneSuspected(u: AssertedCounter): Promise<boolean> {
    try {
      await this.updateAsserted(u, "SET cloneSuspectedAt = if_not_exists(cloneSuspectedAt, :now)", `NOT ${counterAdvances(u.newCounter)}`);
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /**
   * Clears the clone flag of a credential of `userId` (ClearCloneWarning); resolves the credential
   * after the change and the flag's time, undefined when it was not flagged.
   */
  async clearCloneSuspected(
    tenant: string,
    userId: string,
    credentialId: string,
  ): Promise<{ readonly credential: StoredCredential; readonly suspectedAt: number | undefined }> {
    const old = await this.updateOwned(tenant, userId, credentialId, { expression: "REMOVE cloneSuspectedAt", values: {}, returnOld: true });
    return { credential: { ...old, cloneSuspectedAt: undefined }, suspectedAt: old.cloneSuspectedAt };
  }

  async delete(tenant: string, credentialId: string): Promise<void> {
    await storeCall(() =>
      this.client.send(new DeleteItemCommand({ TableName: this.table, Key: { pk: { S: tenantKey(tenant, credentialId) } } })),
    );
  }

  /**
   * Records a verified assertion with ONE conditional update. The condition is the source of
   * truth for ownership, revocation, the signature counter (monotonic; 0 → 0 allowed for
   * authenticators that never count) and, under `refuseCloneSuspected`, the clone flag, so a
   * stale cache on any replica cannot weaken them.
   */
  async recordAssertion(u: AssertionUpdate): Promise<void> {
    const cloneCondition = u.refuseCloneSuspected ? "attribute_not_exists(cloneSuspectedAt) AND " : "";
    try {
      await this.updateAsserted(
        u,
        "SET #counter = :c, lastUsedAt = :now, bs = :bs",
        `attribute_not_exists(revokedAt) AND ${cloneCondition}${counterAdvances(u.newCounter)}`,
        { ":bs": { BOOL: u.backedUp } },
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const old = err.Item;
      if (!old) throw unauthenticated("CREDENTIAL_UNKNOWN", "unknown credential");
      if (old.userId?.S !== u.userId) throw unauthenticated("USER_MISMATCH", "credential belongs to another user");
      if (old.revokedAt) throw unauthenticated("CREDENTIAL_REVOKED", "the credential has been revoked");
      if (u.refuseCloneSuspected && old.cloneSuspectedAt) {
        throw unauthenticated("CREDENTIAL_CLONE_SUSPECTED", "the credential is suspected cloned; an administrator must clear it");
      }
      throw unauthenticated("COUNTER_REGRESSION", "signature counter did not advance; possible cloned authenticator");
    }
  }

  /**
   * One conditional update of the credential an assertion names: it must exist and be the
   * asserting user's, and `condition` must hold; the old item comes back on a condition failure.
   * Binds `#counter`, `:c` (the asserted counter), `:now` (the assertion's time) and `:user`.
   */
  private async updateAsserted(u: AssertedCounter, expression: string, condition: string, values: Item = {}): Promise<void> {
    await storeCall(() =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { pk: { S: tenantKey(u.tenant, u.credentialId) } },
          UpdateExpression: expression,
          ConditionExpression: `attribute_exists(pk) AND userId = :user AND ${condition}`,
          ExpressionAttributeNames: { "#counter": "counter" },
          ExpressionAttributeValues: { ":c": { N: String(u.newCounter) }, ":now": { N: String(u.usedAt) }, ":user": { S: u.userId }, ...values },
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      ),
    );
  }
}
