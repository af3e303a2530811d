import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { installFetchDeadline } from "../../src/webauthn/fetch-deadline.js";

describe("installFetchDeadline", () => {
  const original = globalThis.fetch;
  afterEach(() => {
    globalThis.fetch = original;
  });

  it("bounds a fetch to a server that never answers (CRL fetches on an offline machine)", async () => {
    const server = createServer(() => {
      /* never responds */
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    installFetchDeadline(200);
    const started = Date.now();
    await expect(fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/crl`)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2000);
    server.closeAllConnections();
    server.close();
  });
});
