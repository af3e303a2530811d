import { QueryCommand, type AttributeValue, type DynamoDBClient, type QueryCommandInput } from "@aws-sdk/client-dynamodb";
import { storeCall } from "./store-errors.js";

/** Every item a query matches, following DynamoDB's pages. */
export async function queryAll(
  client: DynamoDBClient,
  input: Omit<QueryCommandInput, "ExclusiveStartKey">,
): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let position: Record<string, AttributeValue> | undefined;
  do {
    const page = await storeCall(() => client.send(new QueryCommand({ ...input, ExclusiveStartKey: position })));
    items.push(...(page.Items ?? []));
    position = page.LastEvaluatedKey;
  } while (position);
  return items;
}
