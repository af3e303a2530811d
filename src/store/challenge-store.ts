import { DeleteItemCommand, PutItemCommand, type AttributeValue, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { unauthenticated } from "../errors.js";
import type { Ceremony, CeremonyKind, UserVerification } from "../webauthn/ceremony.js";
import { tenantKey } from "./keys.js";
import { isConditionFailure, storeCall } from "./store-errors.js";
import { TTL_ATTRIBUTE } from "./tables.js";

/** How long past expiry DynamoDB's TTL may remove an item; expiry itself is in the conditions. */
const TTL_SLACK_SECONDS = 3600;

type Item = Record<string, AttributeValue>;

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
   * DynamoDB's TTL deletes late, so expiry is checked here, not left to TTL.
   */
  async consume(tenant: string, challenge: string, kind: CeremonyKind, now: number): Promise<Ceremony> {
    try {
      const out = await storeCall(() =>
        this.client.send(
          new DeleteItemCommand({
            TableName: this.table,
            Key: { pk: { S: tenantKey(tenant, challenge) } },
            ConditionExpression: "attribute_exists(pk) AND kind = :kind AND expiresAt > :now",
            ExpressionAttributeValues: { ":kind": { S: kind }, ":now": { N: String(now) } },
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
      throw unauthenticated("CHALLENGE_INVALID", "unknown or already used challenge");
    }
  }
}
