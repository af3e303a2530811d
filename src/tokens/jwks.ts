import { createHash } from "node:crypto";
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import type { KeyRing } from "./key-ring.js";

/** Where the JWK Set is served as plain HTTP on the service's port. */
export const JWKS_PATH = "/.well-known/jwks.json";

/**
 * How long verifiers may cache the set. Keys are published before they sign (activation time in
 * the future) and stay published for a session lifetime after they stop, so a verifier whose copy
 * is this old still knows every key that signs; a verifier that meets an unknown kid refetches
 * (jose's createRemoteJWKSet does).
 */
export const JWKS_MAX_AGE_SECONDS = 300;

/** The JWK Set (RFC 7517) of the keys published at `now`, as JSON. */
export function jwksJson(ring: KeyRing, now: number): string {
  return JSON.stringify(ring.jwks(now));
}

/** What the handler uses of Node's HTTP/1.1 and HTTP/2 compatibility request and response. */
interface Request {
  readonly method?: string | undefined;
  readonly headers: IncomingHttpHeaders;
}
interface Response {
  writeHead(status: number, headers: OutgoingHttpHeaders): unknown;
  end(): unknown;
  end(body: string): unknown;
}

/**
 * `GET /.well-known/jwks.json` with Cache-Control and an ETag (a conditional GET gets 304), for
 * verifiers that fetch JWKS over HTTP (jose, Envoy's jwt_authn, API gateways).
 */
export function jwksHttpHandler(ring: KeyRing, clock: () => number): (req: Request, res: Response) => void {
  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" });
      res.end();
      return;
    }
    const body = jwksJson(ring, clock());
    const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
    const headers = { "cache-control": `public, max-age=${JWKS_MAX_AGE_SECONDS}`, etag };
    if (req.headers["if-none-match"] === etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(200, { ...headers, "content-type": "application/jwk-set+json" });
    if (req.method === "HEAD") res.end();
    else res.end(body);
  };
}
