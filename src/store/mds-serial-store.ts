import { UpdateItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { MDS_SERIAL_KEY } from "./keys.js";
import { isConditionFailure, storeCall } from "./store-errors.js";

/**
 * The highest FIDO MDS BLOB serial number (`no`) any replica has used, so a restored older BLOB
 * (with a model since revoked) is refused at start: one item, raised with a conditional write
 * that never lowers it ("no >= stored").
 */
export class MdsSerialStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  /** Records `no` unless a higher number is recorded; returns the highest recorded number. */
  async raise(no: number, now: number): Promise<number> {
    try {
      await storeCall(() =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: { pk: { S: MDS_SERIAL_KEY } },
            UpdateExpression: "SET #no = :no, updatedAt = :now",
            ConditionExpression: "attribute_not_exists(#no) OR #no <= :no",
            ExpressionAttributeNames: { "#no": "no" },
            ExpressionAttributeValues: { ":no": { N: String(no) }, ":now": { N: String(now) } },
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          }),
        ),
      );
      return no;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return Number(err.Item?.no?.N ?? no);
    }
  }
}
