import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { startEmbeddedDynamoDb } from "../../src/store/embedded-dynamodb.js";

// These tests exercise the launcher itself, so each starts its own instance.

function clientFor(endpoint: string) {
  return new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
}

async function createTable(client: DynamoDBClient) {
  await client.send(
    new CreateTableCommand({
      TableName: "things",
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
}

const putThing = (client: DynamoDBClient) =>
  client.send(new PutItemCommand({ TableName: "things", Item: { pk: { S: "a" }, value: { S: "hello" } } }));

async function getThing(client: DynamoDBClient) {
  const { Item } = await client.send(new GetItemCommand({ TableName: "things", Key: { pk: { S: "a" } } }));
  return Item?.["value"]?.S;
}

/** The error code of a TCP connect to the endpoint, or "connected". */
function connectResult(endpoint: string): Promise<string> {
  const { hostname, port } = new URL(endpoint);
  return new Promise((done) => {
    const socket = connect(Number(port), hostname);
    socket.once("connect", () => {
      socket.destroy();
      done("connected");
    });
    socket.once("error", (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
}

/** /proc/<pid>/stat fields after "(comm)": state, ppid, ... */
async function procStat(pid: number): Promise<{ comm: string; state: string; ppid: number } | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const close = stat.lastIndexOf(")");
    const [state = "", ppid = ""] = stat.slice(close + 2).split(" ");
    return { comm: stat.slice(stat.indexOf("(") + 1, close), state, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

async function childrenOf(parent: number) {
  const children: { pid: number; comm: string }[] = [];
  for (const entry of await readdir("/proc")) {
    const pid = Number(entry);
    const stat = Number.isInteger(pid) ? await procStat(pid) : undefined;
    if (stat?.ppid === parent) children.push({ pid, comm: stat.comm });
  }
  return children;
}

// A zombie is dead too: it only waits for whichever init adopted it to reap it, which some
// container inits do late, so process.kill(pid, 0) could still succeed for a while.
const isAlive = async (pid: number) => ((await procStat(pid))?.state ?? "Z") !== "Z";
const onLinux = process.platform === "linux";

describe("startEmbeddedDynamoDb", () => {
  it("serves requests in memory and stops listening after stop()", { timeout: 60_000 }, async () => {
    const db = await startEmbeddedDynamoDb({});
    const client = clientFor(db.endpoint);
    try {
      expect(db.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await createTable(client);
      await putThing(client);
      expect(await getThing(client)).toBe("hello");
    } finally {
      client.destroy();
      await db.stop();
    }
    expect(await connectResult(db.endpoint)).toBe("ECONNREFUSED");
  });

  it("keeps data in dataDir across restarts", { timeout: 60_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "dynauthn-ddb-"));
    try {
      const first = await startEmbeddedDynamoDb({ dataDir });
      const firstClient = clientFor(first.endpoint);
      try {
        await createTable(firstClient);
        await putThing(firstClient);
      } finally {
        firstClient.destroy();
        await first.stop();
      }

      const second = await startEmbeddedDynamoDb({ dataDir });
      const secondClient = clientFor(second.endpoint);
      try {
        expect(await getThing(secondClient)).toBe("hello");
      } finally {
        secondClient.destroy();
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  // Linux only: it finds the child's processes through /proc.
  it.runIf(onLinux)("takes java down with it when the Node process is SIGKILLed", { timeout: 60_000 }, async () => {
    // The child runs the module compiled to plain ESM. It sits under node_modules so that its own
    // imports resolve from this project's node_modules (ESM ignores NODE_PATH).
    const cacheRoot = fileURLToPath(new URL("../../node_modules/.cache/dynauthn-test/", import.meta.url));
    await mkdir(cacheRoot, { recursive: true });
    const dir = await mkdtemp(cacheRoot);
    const source = await readFile(new URL("../../src/store/embedded-dynamodb.ts", import.meta.url), "utf8");
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    await writeFile(join(dir, "embedded-dynamodb.mjs"), outputText);
    await writeFile(
      join(dir, "child.mjs"),
      [
        'import { startEmbeddedDynamoDb } from "./embedded-dynamodb.mjs";',
        "const db = await startEmbeddedDynamoDb({});",
        "console.log(JSON.stringify({ endpoint: db.endpoint }));",
        "setInterval(() => {}, 60_000);",
      ].join("\n"),
    );

    const child = spawn(process.execPath, [join(dir, "child.mjs")], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      const endpoint = await readEndpoint(child.stdout);
      const descendants = await childrenOf(child.pid!);
      expect(descendants.map((p) => p.comm).sort()).toEqual(["java", "sh"]);
      expect(await connectResult(endpoint)).toBe("connected");

      child.kill("SIGKILL");

      const anyAlive = async () => (await Promise.all(descendants.map((p) => isAlive(p.pid)))).some(Boolean);
      await expect.poll(anyAlive, { timeout: 10_000, interval: 100 }).toBe(false);
      expect(await connectResult(endpoint)).toBe("ECONNREFUSED");
    } finally {
      child.kill("SIGKILL");
      await rm(dir, { recursive: true, force: true });
    }
  });
});

async function readEndpoint(stdout: NodeJS.ReadableStream): Promise<string> {
  for await (const line of createInterface({ input: stdout })) {
    return (JSON.parse(line) as { endpoint: string }).endpoint;
  }
  throw new Error("child exited before reporting its endpoint");
}
