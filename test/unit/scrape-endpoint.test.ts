import net from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_TRANSPORT_LIMITS } from "../../src/server-limits/transport-limits.js";
import { startScrapeEndpoint } from "../../src/telemetry/scrape-endpoint.js";
import { freePort } from "../support/free-port.js";

const port = await freePort();
const limits = { ...DEFAULT_TRANSPORT_LIMITS, headersTimeoutMs: 500 };
const endpoint = startScrapeEndpoint({ host: "127.0.0.1", port, limits });

describe("the Prometheus scrape endpoint", () => {
  afterAll(() => endpoint.close());

  it("answers 404 off /metrics, and cuts off a client dripping its request head at the headers timeout (the service port's limits)", async () => {
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    const socket = net.connect(port, "127.0.0.1");
    socket.on("error", () => {});
    const start = Date.now();
    socket.write("GET /metrics HTTP/1.1\r\nHost: x\r\n");
    const dripping = setInterval(() => socket.write("X-Drip: 1\r\n"), 100);
    const received: string[] = [];
    socket.on("data", (d: Buffer) => received.push(d.toString("latin1")));
    const closedAfter = await new Promise<number | undefined>((resolve) => {
      socket.once("close", () => resolve(Date.now() - start));
      setTimeout(() => resolve(undefined), 5000);
    });
    clearInterval(dripping);
    socket.destroy();
    expect(closedAfter, "still open after 5 s (Node's default headers timeout is 60 s)").toBeDefined();
    expect(closedAfter!).toBeGreaterThanOrEqual(limits.headersTimeoutMs - 50);
    expect(received.join("")).toMatch(/^HTTP\/1\.1 408 /);
  });
});
