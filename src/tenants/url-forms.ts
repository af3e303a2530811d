/** The URL forms the tenant configuration accepts, each judged on one parse (undefined: not a URL). */
function urlOf(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** A web origin (scheme, host, optional port; no path). */
export function isWebOrigin(value: string): boolean {
  const url = urlOf(value);
  return (url?.protocol === "https:" || url?.protocol === "http:") && url.origin === value;
}

/** An https origin in serialised form (scheme, host, optional port; nothing else). */
export function isHttpsOrigin(value: string): boolean {
  const url = urlOf(value);
  return url?.protocol === "https:" && url.origin === value;
}

/** An absolute https URL without a user name or password (it is published to every browser). */
export function isPublicHttpsUrl(value: string): boolean {
  const url = urlOf(value);
  return url?.protocol === "https:" && url.username === "" && url.password === "";
}
