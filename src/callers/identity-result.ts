/**
 * The two namespaces a caller identity comes from, kept apart. A URI SAN (a SPIFFE ID) is always
 * an RFC 3986 URI, so it starts with `scheme:`; a subject CN never may. Without that, a CA that
 * lets a team choose its CN (`CN=spiffe://…/account-service` beside `DNS:billing.svc`) would hand
 * out every SPIFFE identity (issue 13, identity break 1). Refusing such a CN keeps every rule
 * naming a plain CN (`account-service`) working, which tagging CN identities would not.
 */

/** The identity a certificate or an XFCC element names ("" for none), or why it was refused. */
export type IdentityResult = { readonly identity: string } | { readonly rejected: string };

/** What a URI SAN may hold (RFC 3986 characters): anything else cannot be a URI a CA issued. */
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/;
/** An RFC 3986 scheme and its ':' at the start of a name. */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

export function uriIdentity(uri: string): IdentityResult {
  return URI.test(uri) ? { identity: uri } : { rejected: "URI is not a URI" };
}

export function commonNameIdentity(cn: string): IdentityResult {
  return SCHEME.test(cn) ? { rejected: "CN starts with a URI scheme; only a URI SAN names a URI identity" } : { identity: cn };
}
