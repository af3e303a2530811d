import type { TestProject } from "vitest/node";
import { startEmbeddedDynamoDb } from "../../src/store/embedded-dynamodb.js";

declare module "vitest" {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}

/** One in-memory DynamoDB Local for the whole run; test files read its endpoint with inject("dynamoEndpoint"). */
export default async function setup(project: TestProject) {
  const db = await startEmbeddedDynamoDb({});
  project.provide("dynamoEndpoint", db.endpoint);
  return () => db.stop();
}
