import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { BrowserSignalSchema } from "../src/gen/authn/v1/auth_service_pb.js";
import { ErrorInfoSchema } from "../src/gen/google/rpc/error_details_pb.js";

/** Credential JSON is at most 64 KiB at dynauthn; anything much larger is not a browser's. */
const MAX_BODY_BYTES = 128 * 1024;

/** A refusal the BFF answers itself; `error` is a stable code the page shows. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  if (!req.headers["content-type"]?.startsWith("application/json")) {
    // Also a CSRF guard: a cross-site form cannot send JSON without a CORS preflight.
    throw new HttpError(415, "JSON_REQUIRED", "send application/json");
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "TOO_LARGE", "request body too large");
    chunks.push(chunk);
  }
  try {
    const body: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
    if (typeof body === "object" && body !== null && !Array.isArray(body)) return body as Record<string, unknown>;
  } catch {
    // falls through to the refusal below
  }
  throw new HttpError(400, "JSON_INVALID", "the body must be a JSON object");
}

/** A required string field of a JSON body. */
export function field(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== "string" || value.trim() === "") throw new HttpError(400, "FIELD_INVALID", `${name} is required`);
  return value.trim();
}

export type Headers = Record<string, string | string[]>;

/** Names the BFF prints or stores itself: one line, printable, short. */
const NAME = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]{1,64}$/u;

/** A required user name field: 1–64 characters, no control or format characters (one log line). */
export function nameField(body: Record<string, unknown>, name: string): string {
  const value = field(body, name);
  if (!NAME.test(value)) throw new HttpError(400, "FIELD_INVALID", `${name} must be 1-64 printable characters`);
  return value;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Headers = {}): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
  res.end(JSON.stringify(body));
}

/**
 * Answers a failure: the BFF's own refusals as they are; dynauthn's errors with the reason from
 * their google.rpc.ErrorInfo (ORIGIN_MISMATCH, CREDENTIAL_REVOKED, ...), which the page shows,
 * and the browser signal one carries (signalUnknownCredential for a credential dynauthn does not
 * know), which the page passes on to the browser.
 */
export function sendError(res: ServerResponse, err: unknown): void {
  if (err instanceof HttpError) return sendJson(res, err.status, { error: err.error, message: err.message });
  const rpc = ConnectError.from(err);
  const reason = rpc.findDetails(ErrorInfoSchema)[0]?.reason ?? Code[rpc.code];
  const [signal] = rpc.findDetails(BrowserSignalSchema);
  sendJson(res, HTTP_STATUS[rpc.code] ?? 502, {
    error: reason,
    message: rpc.rawMessage,
    ...(signal ? { signal: { method: signal.method, optionsJson: signal.optionsJson } } : {}),
  });
}

const HTTP_STATUS: Partial<Record<Code, number>> = {
  [Code.Unauthenticated]: 401,
  [Code.InvalidArgument]: 400,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.Unimplemented]: 501,
};

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

/** Serves the page's few files; only names listed here, so no path ever leaves `dir`. */
export async function sendStatic(res: ServerResponse, dir: string, path: string): Promise<boolean> {
  const name = path === "/" ? "index.html" : path.slice(1);
  if (!STATIC_FILES.has(name)) return false;
  const body = await readFile(join(dir, name));
  res.writeHead(200, {
    "content-type": CONTENT_TYPES[extname(name)] ?? "application/octet-stream",
    // Provider icons are data: URIs shown with <img src>, never as markup.
    "content-security-policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "cache-control": "no-cache",
  });
  res.end(body);
  return true;
}

const STATIC_FILES = new Set(["index.html", "app.js", "style.css"]);

/** A public JSON document as dynauthn made it (the .well-known ones), or 404 when there is none. */
export function sendDocument(res: ServerResponse, documentJson: string): void {
  if (documentJson === "") return sendJson(res, 404, { error: "NOT_FOUND", message: "this site publishes no such document" });
  res.writeHead(200, { "content-type": "application/json", "cache-control": "public, max-age=300", "x-content-type-options": "nosniff" });
  res.end(documentJson);
}
