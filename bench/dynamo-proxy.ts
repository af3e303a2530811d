import http from "node:http";
import type { AddressInfo } from "node:net";

/** What the service asked of DynamoDB: requests by operation and by "operation table(+table…)", capacity units. */
export interface DynamoCounts {
  readonly requests: Record<string, number>;
  readonly byTable: Record<string, number>;
  readUnits: number;
  writeUnits: number;
  /** Responses that were not 200 (conditional check failures, throttling, ...). */
  errors: number;
}

export interface DynamoProxy {
  readonly endpoint: string;
  /** A copy of the counts so far; subtract two snapshots with `countsBetween`. */
  snapshot(): DynamoCounts;
  close(): Promise<void>;
}

const READS = new Set(["GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"]);

/**
 * A counting HTTP proxy in front of DynamoDB Local, so the bench sees every request the service
 * makes without touching the service. It asks for consumed capacity (ReturnConsumedCapacity TOTAL)
 * when the service did not, and passes responses through byte for byte: the SDK checks their CRC32.
 * DynamoDB Local does not verify SigV4 signatures, so rewriting the request body is accepted.
 */
export async function startDynamoProxy(target: string): Promise<DynamoProxy> {
  const upstream = new URL(target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const counts: DynamoCounts = { requests: {}, byTable: {}, readUnits: 0, writeUnits: 0, errors: 0 };

  const server = http.createServer(async (req, res) => {
    const body = Buffer.concat(await req.toArray());
    const op = String(req.headers["x-amz-target"] ?? "unknown").split(".").at(-1)!;
    const input = JSON.parse(body.toString("utf8") || "{}") as Record<string, unknown>;
    bump(counts.requests, op);
    bump(counts.byTable, `${op} ${tablesOf(input).join("+")}`);
    input.ReturnConsumedCapacity ??= "TOTAL";
    const forwarded = Buffer.from(JSON.stringify(input));

    const headers = { ...req.headers, "content-length": String(forwarded.length) };
    const out = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent },
      async (upRes) => {
        const answer = Buffer.concat(await upRes.toArray());
        if (upRes.statusCode !== 200) counts.errors += 1;
        else addCapacity(counts, op, answer);
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        res.end(answer);
      },
    );
    out.on("error", (err) => {
      res.writeHead(502);
      res.end(String(err));
    });
    out.end(forwarded);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    snapshot: () => structuredClone(counts),
    close: async () => {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
      agent.destroy();
    },
  };
}

/** after − before, per key. */
export function countsBetween(before: DynamoCounts, after: DynamoCounts): DynamoCounts {
  const diff = (a: Record<string, number>, b: Record<string, number>) =>
    Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v - (a[k] ?? 0)]).filter(([, v]) => v !== 0));
  return {
    requests: diff(before.requests, after.requests),
    byTable: diff(before.byTable, after.byTable),
    readUnits: after.readUnits - before.readUnits,
    writeUnits: after.writeUnits - before.writeUnits,
    errors: after.errors - before.errors,
  };
}

export function totalRequests(c: DynamoCounts): number {
  return Object.values(c.requests).reduce((a, b) => a + b, 0);
}

export function readRequests(c: DynamoCounts): number {
  return Object.entries(c.requests).reduce((sum, [op, n]) => sum + (READS.has(op) ? n : 0), 0);
}

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

function tablesOf(input: Record<string, unknown>): string[] {
  if (typeof input.TableName === "string") return [input.TableName];
  const items = (input.TransactItems ?? []) as Record<string, { TableName?: string }>[];
  return [...new Set(items.flatMap((item) => Object.values(item).map((action) => action.TableName ?? "?")))];
}

function addCapacity(counts: DynamoCounts, op: string, answer: Buffer): void {
  const consumed = (JSON.parse(answer.toString("utf8")) as { ConsumedCapacity?: unknown }).ConsumedCapacity;
  const entries = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) as { CapacityUnits?: number }[];
  const units = entries.reduce((sum, e) => sum + (e.CapacityUnits ?? 0), 0);
  if (READS.has(op)) counts.readUnits += units;
  else counts.writeUnits += units;
}
