import { readFileSync } from "node:fs";
import { parse } from "yaml";

/** CloudFormation YAML with its short-form intrinsic functions (!Ref, !Sub, ...) as plain JSON. */

const FUNCTIONS = ["Ref", "Sub", "GetAtt", "If", "Not", "Equals", "Join", "Select", "Split"];
const customTags = FUNCTIONS.flatMap((name) => {
  const key = name === "Ref" ? "Ref" : `Fn::${name}`;
  return [
    { tag: `!${name}`, resolve: (value: string) => ({ [key]: value }) },
    { tag: `!${name}`, collection: "seq" as const, resolve: (value: { toJSON(): unknown }) => ({ [key]: value.toJSON() }) },
  ];
});

export interface KeyElement {
  readonly AttributeName: string;
  readonly KeyType: "HASH" | "RANGE";
}

export interface TableProperties {
  readonly TableName: { "Fn::Sub": string };
  readonly BillingMode: string;
  readonly AttributeDefinitions: { AttributeName: string; AttributeType: string }[];
  readonly KeySchema: KeyElement[];
  readonly GlobalSecondaryIndexes?: { IndexName: string; KeySchema: KeyElement[]; Projection: { ProjectionType: string } }[];
  readonly TimeToLiveSpecification?: { AttributeName: string; Enabled: boolean };
  readonly PointInTimeRecoverySpecification?: { PointInTimeRecoveryEnabled: boolean };
  readonly SSESpecification?: { SSEEnabled: boolean; SSEType: string; KMSMasterKeyId?: unknown };
  readonly DeletionProtectionEnabled?: boolean;
}

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

export interface Resource {
  readonly Type: string;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly Properties: Record<string, unknown>;
}

export interface Template {
  readonly Parameters: Record<string, { Type: string; Default?: unknown; AllowedPattern?: string }>;
  readonly Resources: Record<string, Resource>;
}

export function loadTemplate(path: string): Template {
  return parse(readFileSync(path, "utf8"), { customTags }) as Template;
}

export function asArray<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}
