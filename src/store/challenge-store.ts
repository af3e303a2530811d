import { randomBytes } from "node:crypto";
import { PutItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { tenantKey } from "./keys.js";
import { isConditionFailure, storeCall } from "./store-errors.js";
import { TTL_ATTRIBUTE } from "./tables.js";

/** How long past expiry DynamoDB's TTL may remove a marker; expiry itself is checked before. */
const TTL_SLACK_SECONDS = 3600;

/**
 * Consumed markers of single-use things: sealed challenges (`challenge#<nonce>`) and single-use
 * step-up grants (`jti#<id>`). Challenges themselves are never stored (they are sealed, see
 * src/webauthn/sealed-challenge.ts); only their use is.
 */
export class ChallengeStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  /** Records the use of a sealed challenge, by its nonce; false when it was used before. */
  markChallengeUsed(tenant: string, nonce: string, expiresAt: number): Promise<boolean> {
    return this.markUsed(tenant, `challenge#${nonce}`, expiresAt);
  }

  /** Records the use of a single-use step-up grant, by its id (jti); false when it was used before. */
  markGrantUsed(tenant: string, jti: string, expiresAt: number): Promise<boolean> {
    return this.markUsed(tenant, `jti#${jti}`, expiresAt);
  }

  /**
   * Records the single use of `key` with ONE conditional put; false when it was used before. The
   * marker lives until `expiresAt` (after which the thing it marks is refused anyway), plus slack.
   * The put carries a random attempt id and also succeeds when the marker holds that same id, so
   * the SDK's retry of a put whose response was lost does not refuse its own first attempt;
   * concurrent uses carry different ids, so exactly one of them succeeds.
   */
  private async markUsed(tenant: string, key: string, expiresAt: number): Promise<boolean> {
    const attempt = { S: randomBytes(12).toString("base64url") };
    try {
      await storeCall(() =>
        this.client.send(
          new PutItemCommand({
            TableName: this.table,
            Item: {
              pk: { S: tenantKey(tenant, key) },
              attempt,
              expiresAt: { N: String(expiresAt) },
              [TTL_ATTRIBUTE]: { N: String(Math.ceil(expiresAt / 1000) + TTL_SLACK_SECONDS) },
            },
            ConditionExpression: "attribute_not_exists(pk) OR attempt = :attempt",
            ExpressionAttributeValues: { ":attempt": attempt },
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
