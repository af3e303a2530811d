import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeTableCommand, DescribeTimeToLiveCommand, ScanCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import cloudformation from "@aws/cloudformation-validate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { tableNames } from "../../src/store/tables.js";
import { assertion, register } from "../support/ceremonies.js";
import { createTestTables, startTestService, TEST_TENANT, type TestService } from "../support/service.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { asArray, loadTemplate, type PolicyStatement, type TableProperties } from "./cloudformation.js";
import { commandsIn, storeCalls, type Resource, type StoreCalls } from "./store-calls.js";

const TEMPLATE = "deploy/aws/dynauthn-tables.yaml";
const ADMIN_POLICY = "deploy/aws/table-admin-policy.json";
const template = loadTemplate(TEMPLATE);

/** Files of src/store that send DynamoDB commands outside the service's data plane, and why. */
const OUTSIDE_DATA_PLANE = {
  "tables.ts": "table creation (npm run tables:create, CREATE_TABLES): the admin policy, not the service role",
  "embedded-dynamodb.ts": "readiness of the embedded DynamoDB Local (development only, never AWS)",
  "query-all.ts": "the paging helper: its Query is counted where a store class calls queryAll",
};

/** The template's tables by the key tableNames() gives them (TableName is !Sub "${TablePrefix}<key>"). */
const tables = new Map<string, { logicalId: string; props: TableProperties }>();
for (const [logicalId, resource] of Object.entries(template.Resources)) {
  if (resource.Type !== "AWS::DynamoDB::Table") continue;
  const props = resource.Properties as unknown as TableProperties;
  const key = /^\$\{TablePrefix\}(\w+)$/.exec(props.TableName["Fn::Sub"])?.[1];
  if (!key) throw new Error(`${logicalId}: TableName must be !Sub "\${TablePrefix}<name>"`);
  tables.set(key, { logicalId, props });
}

const servicePolicy = template.Resources.ServicePolicy!.Properties.PolicyDocument as { Statement: PolicyStatement[] };

/** A statement's resource as table key + "table" | "index/<name>". */
function resolveResource(resource: unknown): [string, Resource] {
  const logicalIds = new Map([...tables].map(([key, t]) => [t.logicalId, key]));
  const getAtt = (resource as { "Fn::GetAtt"?: string })["Fn::GetAtt"];
  const sub = (resource as { "Fn::Sub"?: string })["Fn::Sub"];
  const [, logicalId, index] = (getAtt ? /^(\w+)\.Arn$/.exec(getAtt) : sub ? /^\$\{(\w+)\.Arn\}\/(index\/[\w-]+)$/.exec(sub) : null) ?? [];
  const key = logicalId && logicalIds.get(logicalId);
  if (!key) throw new Error(`resource ${JSON.stringify(resource)} is not one of the template's tables or their indexes`);
  return [key, (index as Resource | undefined) ?? "table"];
}

/** The policy as table key → action → resources, the shape storeCalls() reads from the code. */
function policyCalls(statements: PolicyStatement[]): StoreCalls {
  const calls: StoreCalls = new Map();
  for (const statement of statements) {
    expect(statement.Effect).toBe("Allow");
    for (const action of asArray(statement.Action)) {
      expect(action).toMatch(/^dynamodb:[A-Z][A-Za-z]+$/); // no wildcards
      for (const resource of asArray(statement.Resource)) {
        const [table, target] = resolveResource(resource);
        const actions = calls.get(table) ?? new Map<string, Set<Resource>>();
        calls.set(table, actions);
        const name = action.slice("dynamodb:".length);
        actions.set(name, new Set([...(actions.get(name) ?? []), target]));
      }
    }
  }
  return calls;
}

const sorted = (calls: StoreCalls) =>
  Object.fromEntries([...calls].sort().map(([t, a]) => [t, Object.fromEntries([...a].sort().map(([k, r]) => [k, [...r].sort()]))]));

describe("deploy/aws/dynauthn-tables.yaml", () => {
  it("passes CloudFormation's resource provider schemas, offline", () => {
    const validator = new cloudformation.SchemaValidator();
    try {
      const problems = (path: string) =>
        validator
          .validate(new cloudformation.TemplateFile(path))
          .filter((d) => d.severity !== "INFO" && d.severity !== "DEBUG")
          .map((d) => `${d.ruleId} ${d.entity?.logicalId ?? ""} ${d.message}`);
      expect(problems(TEMPLATE)).toEqual([]);
      // The validator has teeth: a misspelt property is refused.
      const broken = join(tmpdir(), `dynauthn-broken-${process.pid}.yaml`);
      writeFileSync(broken, readFileSync(TEMPLATE, "utf8").replace("DeletionProtectionEnabled:", "DeletionProtectionEnable:"));
      expect(problems(broken).join("\n")).toMatch(/F3002 .*DeletionProtectionEnable/);
    } finally {
      validator.free();
    }
  }, 120_000);

  describe("against the tables src/store/tables.ts creates on DynamoDB Local", () => {
    let dynamo: DynamoDBClient;
    let prefix: string;
    beforeAll(async () => {
      ({ dynamo, tablePrefix: prefix } = await createTestTables());
    });

    it("declares every table, with the same key schema, attributes, indexes and TTL", async () => {
      expect([...tables.keys()].sort()).toEqual(Object.keys(tableNames("")).sort());
      for (const [key, name] of Object.entries(tableNames(prefix))) {
        const { props } = tables.get(key)!;
        const { Table: actual } = await dynamo.send(new DescribeTableCommand({ TableName: name }));
        expect(props.KeySchema, key).toEqual(actual!.KeySchema);
        expect(new Set(props.AttributeDefinitions.map((a) => `${a.AttributeName}:${a.AttributeType}`)), key).toEqual(
          new Set(actual!.AttributeDefinitions!.map((a) => `${a.AttributeName}:${a.AttributeType}`)),
        );
        const indexes = (list: { IndexName?: string; KeySchema?: unknown; Projection?: { ProjectionType?: string } }[] = []) =>
          list.map((i) => ({ IndexName: i.IndexName, KeySchema: i.KeySchema, ProjectionType: i.Projection?.ProjectionType })).sort((a, b) => a.IndexName!.localeCompare(b.IndexName!));
        expect(indexes(props.GlobalSecondaryIndexes), key).toEqual(indexes(actual!.GlobalSecondaryIndexes));
        const ttl = (await dynamo.send(new DescribeTimeToLiveCommand({ TableName: name }))).TimeToLiveDescription!;
        expect(props.TimeToLiveSpecification ?? null, key).toEqual(ttl.TimeToLiveStatus === "ENABLED" ? { AttributeName: ttl.AttributeName, Enabled: true } : null);
        expect(props.BillingMode).toBe("PAY_PER_REQUEST");
      }
    });
  });

  it("protects every table: point-in-time recovery, SSE-KMS, deletion protection, kept when the stack goes", () => {
    for (const { logicalId, props } of tables.values()) {
      const resource = template.Resources[logicalId]!;
      expect(resource.DeletionPolicy, logicalId).toBe("Retain");
      expect(resource.UpdateReplacePolicy, logicalId).toBe("Retain");
      expect(props.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled, logicalId).toBe(true);
      expect(props.SSESpecification, logicalId).toEqual({
        SSEEnabled: true,
        SSEType: "KMS",
        KMSMasterKeyId: { "Fn::If": ["HasKmsKey", { Ref: "KmsKeyArn" }, { Ref: "AWS::NoValue" }] },
      });
      expect(props.DeletionProtectionEnabled, logicalId).toBe(true);
    }
  });

  it("grants the service exactly the DynamoDB actions src/store sends, on only those tables and indexes", () => {
    const code = storeCalls("src/store", { elsewhere: OUTSIDE_DATA_PLANE });
    expect(code.size).toBeGreaterThan(0);
    expect(sorted(policyCalls(servicePolicy.Statement))).toEqual(sorted(code));
  });

  it("keeps table administration out of the service role, in the separate admin policy", () => {
    const admin = JSON.parse(readFileSync(ADMIN_POLICY, "utf8")) as { Statement: PolicyStatement[] };
    const adminActions = new Set(admin.Statement.flatMap((s) => asArray(s.Action)).map((a) => a.replace(/^dynamodb:/, "")));
    // waitUntilTableExists polls DescribeTable without naming the command in our source.
    expect(adminActions).toEqual(new Set([...commandsIn("src/store/tables.ts"), "DescribeTable"]));
    const serviceActions = new Set(servicePolicy.Statement.flatMap((s) => asArray(s.Action)));
    for (const action of adminActions) expect(serviceActions).not.toContain(`dynamodb:${action}`);
    expect(commandsIn("src/store/embedded-dynamodb.ts")).toEqual(new Set(["ListTables"]));
  });

  it("accepts the same TablePrefix and TenantId values as the service's configuration", () => {
    const samples = ["dynauthn-", "prod.auth_", "", "bad prefix", "x".repeat(201), "Acme", "acme", "a#b", "-x"];
    const pattern = (name: string) => new RegExp(template.Parameters[name]!.AllowedPattern!);
    const accepts = (variable: string, value: string) => {
      try {
        loadConfig({ [variable]: value });
        return true;
      } catch {
        return false;
      }
    };
    for (const value of samples) {
      expect(pattern("TablePrefix").test(value), `TablePrefix ${JSON.stringify(value)}`).toBe(accepts("TABLE_PREFIX", value));
      // TenantId "" means "no tenant scope"; any other value must be a tenant id the service accepts.
      if (value) expect(pattern("TenantId").test(value), `TenantId ${JSON.stringify(value)}`).toBe(accepts("TENANT_ID", value));
    }
  });

  describe("dynamodb:LeadingKeys <tenant>#* (the optional tenant scope)", () => {
    let service: TestService;
    beforeAll(async () => {
      service = await startTestService();
    });
    afterAll(() => service?.close());

    it("is on every statement, and every partition key the service writes starts with <tenant>#", async () => {
      for (const statement of servicePolicy.Statement) {
        expect(statement.Condition, statement.Sid).toEqual({
          "Fn::If": [
            "ScopeToTenant",
            { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [{ "Fn::Sub": "${TenantId}#*" }] } },
            { Ref: "AWS::NoValue" },
          ],
        });
      }
      // Every item kind: challenges, a credential, a user, audit events and sessions.
      const authenticator = new SoftAuthenticator();
      const credentialId = await register(service, authenticator, "leading-keys");
      await service.connect.finishAuthentication({ credentialJson: await assertion(service, authenticator, "leading-keys") });
      await service.connect.beginAuthentication({ userId: "leading-keys" }); // an unconsumed challenge
      await service.connect.revokeCredential({ userId: "leading-keys", credentialId, reason: "test" });

      const prefix = `${TEST_TENANT.id}#`;
      for (const [key, name] of Object.entries(tableNames(service.tablePrefix))) {
        const { props } = tables.get(key)!;
        const partitionKeys = [props.KeySchema, ...(props.GlobalSecondaryIndexes ?? []).map((i) => i.KeySchema)].map(
          (schema) => schema.find((k) => k.KeyType === "HASH")!.AttributeName,
        );
        const { Items = [] } = await service.dynamo.send(new ScanCommand({ TableName: name }));
        expect(Items.length, `${key} has items`).toBeGreaterThan(0);
        for (const item of Items) {
          for (const attribute of partitionKeys) {
            const value = item[attribute]?.S;
            if (value !== undefined) expect(value.startsWith(prefix), `${key}.${attribute} = ${value}`).toBe(true);
          }
        }
      }
    }, 60_000);
  });
});
