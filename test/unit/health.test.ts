import { describe, expect, it } from "vitest";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../src/gen/grpc/health/v1/health_pb.js";
import { HealthState, healthRoutes } from "../../src/rpc/health.js";

function setup() {
  const state = new HealthState();
  const client = createClient(Health, createRouterTransport(healthRoutes(state)));
  return { state, client };
}

describe("health", () => {
  it("reports the server and registered services as SERVING", async () => {
    const { state, client } = setup();
    state.setServing("authn.v1.AuthService", true);
    expect((await client.check({})).status).toBe(Status.SERVING);
    expect((await client.check({ service: "authn.v1.AuthService" })).status).toBe(Status.SERVING);
  });

  it("reports NOT_SERVING for every service after drain, even if set serving again", async () => {
    const { state, client } = setup();
    state.setServing("authn.v1.AuthService", true);
    state.drain();
    state.setServing("authn.v1.AuthService", true);
    expect((await client.check({})).status).toBe(Status.NOT_SERVING);
    expect((await client.check({ service: "authn.v1.AuthService" })).status).toBe(Status.NOT_SERVING);
  });

  it("answers NOT_FOUND for an unknown service", async () => {
    const { client } = setup();
    const err = await client.check({ service: "nope.v1.Nope" }).catch((e: unknown) => e);
    expect(ConnectError.from(err).code).toBe(Code.NotFound);
  });

  it("lists every service", async () => {
    const { state, client } = setup();
    state.setServing("authn.v1.AuthService", false);
    const { statuses } = await client.list({});
    expect(Object.fromEntries(Object.entries(statuses).map(([name, res]) => [name, res.status]))).toEqual({
      "": Status.SERVING,
      "authn.v1.AuthService": Status.NOT_SERVING,
    });
  });

  it("watch yields the current status, then every change, until aborted", async () => {
    const { state, client } = setup();
    const seen: Status[] = [];
    // Leaving the loop cancels the call.
    for await (const res of client.watch({})) {
      seen.push(res.status);
      if (seen.length === 1) state.drain();
      else break;
    }
    expect(seen).toEqual([Status.SERVING, Status.NOT_SERVING]);
  });

  it("watch yields SERVICE_UNKNOWN for an unknown service, then its status once registered", async () => {
    const { state, client } = setup();
    const seen: Status[] = [];
    for await (const res of client.watch({ service: "later.v1.Later" })) {
      seen.push(res.status);
      if (seen.length === 1) state.setServing("later.v1.Later", true);
      else break;
    }
    expect(seen).toEqual([Status.SERVICE_UNKNOWN, Status.SERVING]);
  });

  it("HealthState.watch ends without error when its signal aborts", async () => {
    const state = new HealthState();
    const abort = new AbortController();
    const seen: Status[] = [];
    for await (const status of state.watch("", abort.signal)) {
      seen.push(status);
      abort.abort();
    }
    expect(seen).toEqual([Status.SERVING]);
  });
});
