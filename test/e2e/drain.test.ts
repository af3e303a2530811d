import { describe, expect, it } from "vitest";
import { startTestService } from "../support/service.js";

describe("draining", () => {
  it("reports NOT_SERVING once draining, then closes the port", async () => {
    const svc = await startTestService();
    const check = () =>
      fetch(`${svc.baseUrl}/grpc.health.v1.Health/Check`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      }).then((r) => r.json());
    expect(await check()).toEqual({ status: "SERVING" });
    svc.app.health.drain();
    expect(await check()).toEqual({ status: "NOT_SERVING" });
    expect(await fetch(`${svc.baseUrl}/grpc.health.v1.Health/Check`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ service: "authn.v1.AuthService" }),
    }).then((r) => r.json())).toEqual({ status: "NOT_SERVING" });
    await svc.close();
    await expect(check()).rejects.toThrow();
  });

  it("closes idle HTTP/1.1 keep-alive connections at once instead of waiting out the grace period", async () => {
    const svc = await startTestService();
    const res = await fetch(`${svc.baseUrl}/grpc.health.v1.Health/Check`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(res.headers.get("connection") ?? "keep-alive").toBe("keep-alive");
    await res.text();
    const started = Date.now();
    await svc.app.server.close(10_000);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
