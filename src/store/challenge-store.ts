import { DeleteItemCommand, PutItemCommand, type AttributeValue, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { unauthenticated } from "../errors.js";
import type { Ceremony, CeremonyKind, UserVerification } from "../webauthn/ceremony.js";
import { tenantKey } from "./keys.js";
import { isConditionFailure, storeCall } from "./store-errors.js";
import { TTL_ATTRIBUTE } from "./tables.js";

/** How long past expiry DynamoDB's TTL may remove an item; expiry itself is in the conditions. */
const TTL_SLACK_SECONDS = 3600;

type Item = Record<string, AttributeValue>;

/** What a step-up challenge must be bound to for VerifyOperation to consume it. */
export interface ChallengeBinding {
  readonly operationDigest: string;
  /** The session's subject; a challenge begun for another user is refused (USER_MISMATCH). */
  readonly userId: string;
}

/** The `kind` of a used-token marker: no ceremony kind, so no Finish can consume one. */
const USED_TOKEN_KIND = "used-token";

function toItem(c: Ceremony): Item {
  const item: Item = {
    pk: { S: tenantKey(c.tenant, c.challenge) },
    kind: { S: c.kind },
    uv: { S: c.userVerification },
    createdAt: { N: String(c.createdAt) },
    expiresAt: { N: String(c.expiresAt) },
    [TTL_ATTRIBUTE]: { N: String(Math.ceil(c.expiresAt / 1000) + TTL_SLACK_SECONDS) },
  };
  if (c.beganBy.caller) item.caller = { S: c.beganBy.caller };
  if (c.beganBy.clientIp) item.clientIp = { S: c.beganBy.clientIp };
  if (c.beganBy.clientUserAgent) item.clientUa = { S: c.beganBy.clientUserAgent };
  if (c.userId !== undefined) item.userId = { S: c.userId };
  if (c.userHandle !== undefined) item.userHandle = { S: c.userHandle };
  if (c.operationDigest !== undefined) item.opDigest = { S: c.operationDigest };
  return item;
}

function fromItem(tenant: string, challenge: string, item: Item): Ceremony {
  return {
    kind: item.kind?.S as CeremonyKind,
    tenant,
    challenge,
    userId: item.userId?.S,
    userHandle: item.userHandle?.S,
    userVerification: item.uv?.S as UserVerification,
    operationDigest: item.opDigest?.S,
    createdAt: Number(item.createdAt?.N),
    expiresAt: Number(item.expiresAt?.N),
    beganBy: {
      caller: item.caller?.S ?? "",
      clientIp: item.clientIp?.S ?? "",
      clientUserAgent: item.clientUa?.S ?? "",
    },
  };
}

/** Challenges: written at Begin, consumed exactly once at Finish. */
export class ChallengeStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  /** One unconditional put: challenges are 32 random bytes, so a collision is not a concern. */
  async put(ceremony: Ceremony): Promise<void> {
    await storeCall(() => this.client.send(new PutItemCommand({ TableName: this.table, Item: toItem(ceremony) })));
  }

  /**
   * Consumes a challenge with ONE conditional delete: it must exist, belong to this ceremony kind
   * and not have expired at `now`. Of any number of concurrent consumers exactly one succeeds.
   * DynamoDB's TTL deletes late, so expiry is checked here, not left to TTL. With a `binding`
   * the same delete also requires the stored operation digest and, when the ceremony named one,
   * the user: a challenge for another operation or user stays unconsumed.
   */
  async consume(
    tenant: string,
    challenge: string,
    kind: CeremonyKind,
    now: number,
    binding?: ChallengeBinding,
  ): Promise<Ceremony> {
    const bound = binding ? " AND opDigest = :op AND (attribute_not_exists(userId) OR userId = :sub)" : "";
    const boundValues: Item = binding ? { ":op": { S: binding.operationDigest }, ":sub": { S: binding.userId } } : {};
    try {
      const out = await storeCall(() =>
        this.client.send(
          new DeleteItemCommand({
            TableName: this.table,
            Key: { pk: { S: tenantKey(tenant, challenge) } },
            ConditionExpression: `attribute_exists(pk) AND kind = :kind AND expiresAt > :now${bound}`,
            ExpressionAttributeValues: { ":kind": { S: kind }, ":now": { N: String(now) }, ...boundValues },
            ReturnValues: "ALL_OLD",
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          }),
        ),
      );
      return fromItem(tenant, challenge, out.Attributes ?? {});
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const old = err.Item;
      if (old?.kind?.S === kind && Number(old.expiresAt?.N) <= now) {
        throw unauthenticated("CHALLENGE_EXPIRED", "the challenge has expired; begin a new ceremony");
      }
      if (old?.kind?.S === kind && binding && old.opDigest?.S === binding.operationDigest && old.userId?.S) {
        throw unauthenticated("USER_MISMATCH", "the challenge was issued to another user");
      }
      throw unauthenticated("CHALLENGE_INVALID", "unknown or already used challenge");
    }
  }

  /**
   * Records that a single-use token (a step-up grant's jti) has been used: ONE conditional put of
   * a marker `tenant#jti#<id>` that lives until the token expires. False when it was used before.
   */
  async useOnce(tenant: string, jti: string, expiresAt: number): Promise<boolean> {
    try {
      await storeCall(() =>
        this.client.send(
          new PutItemCommand({
            TableName: this.table,
            Item: {
              pk: { S: tenantKey(tenant, `jti#${jti}`) },
              kind: { S: USED_TOKEN_KIND },
              expiresAt: { N: String(expiresAt) },
              [TTL_ATTRIBUTE]: { N: String(Math.ceil(expiresAt / 1000) + TTL_SLACK_SECONDS) },
            },
            ConditionExpression: "attribute_not_exists(pk)",
          }),
        ),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }
}
