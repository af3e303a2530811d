/**
 * @simplewebauthn/server fetches certificate revocation lists with the global fetch and no
 * timeout; on a machine without network that could hold a registration for minutes. Every fetch
 * in this process gets a deadline instead (the service makes no other fetch calls). A CRL that
 * cannot be fetched in time is skipped, as the library does on any network error.
 */
export function installFetchDeadline(timeoutMs: number): void {
  const original = globalThis.fetch;
  globalThis.fetch = (input, init) =>
    original(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(timeoutMs) });
}
