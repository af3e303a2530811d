import { createHash } from "node:crypto";
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";

/** What a handler uses of Node's HTTP/1.1 and HTTP/2 compatibility request and response. */
export interface DocumentRequest {
  readonly method?: string | undefined;
  readonly headers: IncomingHttpHeaders;
  /** Header names and values as received, duplicates kept (HTTP/2 pseudo-headers included). */
  readonly rawHeaders: readonly string[];
}
export interface DocumentResponse {
  writeHead(status: number, headers: OutgoingHttpHeaders): unknown;
  end(): unknown;
  end(body: string): unknown;
}

/** A document to serve, or the status that answers instead (404: none here, 400: a bad request). */
export type DocumentBody = string | 400 | 404;

export interface JsonDocument {
  readonly contentType: string;
  readonly maxAgeSeconds: number;
  /** The body for this request; read per request, so a reloaded configuration shows at once. */
  body(req: DocumentRequest): DocumentBody;
}

/**
 * A public JSON document over plain HTTP GET (and HEAD) with Cache-Control and an ETag (a
 * conditional GET gets 304); other methods get 405.
 */
export function jsonDocumentHandler(doc: JsonDocument): (req: DocumentRequest, res: DocumentResponse) => void {
  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" });
      res.end();
      return;
    }
    const body = doc.body(req);
    if (typeof body === "number") {
      res.writeHead(body, { "cache-control": "no-store" });
      res.end();
      return;
    }
    const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
    const headers = { "cache-control": `public, max-age=${doc.maxAgeSeconds}`, etag };
    if (req.headers["if-none-match"] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(200, { ...headers, "content-type": doc.contentType, "x-content-type-options": "nosniff" });
    if (req.method === "HEAD") res.end();
    else res.end(body);
  };
}
