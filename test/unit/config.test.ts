import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, requireOperatorSecrets } from "../../src/config.js";
import { DEFAULT_TRANSPORT_LIMITS } from "../../src/server-limits/transport-limits.js";

describe("loadConfig", () => {
  it("gives the embedded development defaults with an empty environment", () => {
    const config = loadConfig({});
    expect(config.port).toBe(50051);
    expect(config.tenant).toMatchObject({ id: "default", rpId: "localhost", origins: ["http://localhost:8080"] });
    expect(config.tenant.challengeTtlSeconds).toBe(300);
    expect(config.dynamodb).toMatchObject({ embedded: true, createTables: true, tablePrefix: "dynauthn-" });
    expect(() => requireOperatorSecrets(config)).not.toThrow();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("uses an endpoint instead of the embedded store, and then requires a signing key", () => {
    const config = loadConfig({ DYNAMODB_ENDPOINT: "http://127.0.0.1:8000" });
    expect(config.dynamodb).toMatchObject({ embedded: false, createTables: false, endpoint: "http://127.0.0.1:8000" });
    expect(() => requireOperatorSecrets(config)).toThrow(/SIGNING_KEY_FILE/);
    expect(() => requireOperatorSecrets(config)).toThrow(/SERVER_SECRETS_FILE/);
    const keysOnly = loadConfig({ DYNAMODB_ENDPOINT: "http://127.0.0.1:8000", SIGNING_KEYS_DIR: "/keys" });
    expect(() => requireOperatorSecrets(keysOnly)).toThrow(/^invalid configuration:\n {2}SERVER_SECRETS_FILE: required/);
    const both = loadConfig({ DYNAMODB_ENDPOINT: "http://127.0.0.1:8000", SIGNING_KEYS_DIR: "/keys", SERVER_SECRETS_FILE: "/s" });
    expect(() => requireOperatorSecrets(both)).not.toThrow();
  });

  it("signs with dummy credentials only for a loopback endpoint; DYNAMODB_EMBEDDED=false selects AWS", () => {
    expect(loadConfig({ DYNAMODB_ENDPOINT: "http://127.0.0.1:8000" }).dynamodb.localCredentials).toBe(true);
    expect(loadConfig({ DYNAMODB_ENDPOINT: "https://vpce-1.dynamodb.eu-west-1.vpce.amazonaws.com" }).dynamodb.localCredentials).toBe(false);
    expect(loadConfig({ DYNAMODB_EMBEDDED: "false" }).dynamodb).toMatchObject({ embedded: false, localCredentials: false, endpoint: undefined });
  });

  it("treats real AWS credentials as 'no embedded store'", () => {
    expect(loadConfig({ AWS_ACCESS_KEY_ID: "AKIA...", AWS_REGION: "eu-west-1" }).dynamodb.embedded).toBe(false);
  });

  it("parses RP_ORIGINS as a comma-separated list", () => {
    const config = loadConfig({ RP_ORIGINS: "https://a.example, https://b.example:8443" });
    expect(config.tenant.origins).toEqual(["https://a.example", "https://b.example:8443"]);
  });

  it.each([
    ["PORT", "notaport"],
    ["PORT", "70000"],
    ["RP_ORIGINS", "ftp://x.example"],
    ["RP_ORIGINS", "https://a.example/path"],
    ["RP_ID", "Not A Domain"],
    ["CHALLENGE_TTL_SECONDS", "0"],
    ["DYNAMODB_ENDPOINT", "not a url"],
    ["CREATE_TABLES", "yes"],
    ["LOG_LEVEL", "loud"],
    ["TABLE_PREFIX", "bad prefix!"],
    ["BEGIN_LIMIT_PER_USER", "-1"],
    ["BEGIN_LIMIT_PER_IP", "ten"],
    ["BEGIN_LIMIT_WINDOW_SECONDS", "0"],
    ["AUDIT_FAILURES_PER_SOURCE", "-5"],
    ["AUDIT_FAILURES_WINDOW_SECONDS", "0"],
    ["MAX_REQUEST_BYTES", "1024"],
  ])("rejects %s=%s with a message naming the variable", (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
  });

  it("limits Begin calls by default per user, IP and outstanding challenges, not per caller; 0 turns a limit off", () => {
    expect(loadConfig({}).beginLimits).toEqual({ perCaller: 0, perUser: 20, perIp: 100, windowSeconds: 2, outstandingPerUser: 256 });
    expect(
      loadConfig({
        BEGIN_LIMIT_PER_CALLER: "5000",
        BEGIN_LIMIT_PER_USER: "0",
        BEGIN_LIMIT_PER_IP: "0",
        BEGIN_LIMIT_WINDOW_SECONDS: "10",
        BEGIN_LIMIT_OUTSTANDING_PER_USER: "0",
      }).beginLimits,
    ).toEqual({ perCaller: 5000, perUser: 0, perIp: 0, windowSeconds: 10, outstandingPerUser: 0 });
  });

  it("caps failure audit events per source and in all by default; 0 lifts a cap", () => {
    expect(loadConfig({}).failureAudit).toEqual({ perSource: 60, total: 3000, windowSeconds: 60 });
    expect(
      loadConfig({ AUDIT_FAILURES_PER_SOURCE: "0", AUDIT_FAILURES_TOTAL: "100", AUDIT_FAILURES_WINDOW_SECONDS: "10" }).failureAudit,
    ).toEqual({ perSource: 0, total: 100, windowSeconds: 10 });
  });

  it("reads messages up to 256 KiB by default; MAX_REQUEST_BYTES must still hold a 64 KiB credential", () => {
    expect(loadConfig({}).maxRequestBytes).toBe(256 * 1024);
    expect(loadConfig({ MAX_REQUEST_BYTES: String(80 * 1024) }).maxRequestBytes).toBe(80 * 1024);
    expect(() => loadConfig({ MAX_REQUEST_BYTES: String(64 * 1024) })).toThrow(/MAX_REQUEST_BYTES/);
  });

  it("takes ext_authz's client IP from Envoy's source address by default; a header or X-Forwarded-For with trusted hops only when told", () => {
    expect(loadConfig({}).stepUp.extAuthzClientIp).toEqual({ from: "source", xffTrustedHops: 1 });
    expect(loadConfig({ EXT_AUTHZ_CLIENT_IP: "x-forwarded-for", EXT_AUTHZ_XFF_TRUSTED_HOPS: "2" }).stepUp.extAuthzClientIp).toEqual({
      from: "x-forwarded-for",
      xffTrustedHops: 2,
    });
    expect(() => loadConfig({ EXT_AUTHZ_CLIENT_IP: "x-real-ip" })).toThrow(/EXT_AUTHZ_CLIENT_IP/);
    expect(() => loadConfig({ EXT_AUTHZ_XFF_TRUSTED_HOPS: "0" })).toThrow(/EXT_AUTHZ_XFF_TRUSTED_HOPS/);
  });

  it("sets every transport limit by default and reads each from its variable; headers timeout at most the request timeout", () => {
    expect(loadConfig({}).transportLimits).toEqual(DEFAULT_TRANSPORT_LIMITS);
    const limits = loadConfig({
      HANDSHAKE_TIMEOUT_SECONDS: "5",
      HTTP_HEADERS_TIMEOUT_SECONDS: "6",
      HTTP_REQUEST_TIMEOUT_SECONDS: "7",
      HTTP_IDLE_TIMEOUT_SECONDS: "8",
      HTTP2_PING_INTERVAL_SECONDS: "0",
      HTTP2_PING_TIMEOUT_SECONDS: "9",
      MAX_CONNECTIONS: "10",
      HTTP2_MAX_CONCURRENT_STREAMS: "11",
      MAX_HEADER_BYTES: "8192",
      HEALTH_WATCHES_PER_CONNECTION: "12",
      HEALTH_WATCHES_TOTAL: "13",
    }).transportLimits;
    expect(limits).toEqual({
      handshakeTimeoutMs: 5000,
      headersTimeoutMs: 6000,
      requestTimeoutMs: 7000,
      idleTimeoutMs: 8000,
      pingIntervalMs: 0,
      pingTimeoutMs: 9000,
      maxConnections: 10,
      maxConcurrentStreams: 11,
      maxHeaderBytes: 8192,
      watchesPerConnection: 12,
      watchesTotal: 13,
    });
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_SECONDS: "60" })).toThrow(/HTTP_HEADERS_TIMEOUT_SECONDS: must not exceed/);
    expect(() => loadConfig({ MAX_CONNECTIONS: "0" })).toThrow(/MAX_CONNECTIONS/);
    expect(() => loadConfig({ HTTP2_MAX_CONCURRENT_STREAMS: "0" })).toThrow(/HTTP2_MAX_CONCURRENT_STREAMS/);
    expect(() => loadConfig({ MAX_HEADER_BYTES: "1024" })).toThrow(/MAX_HEADER_BYTES/);
  });

  it("reads the FIDO MDS BLOB and root files; the root only with a BLOB", () => {
    expect(loadConfig({}).mds).toBeUndefined();
    expect(loadConfig({ MDS_BLOB_FILE: "/mds/blob.jwt" }).mds).toEqual({ blobFile: "/mds/blob.jwt", rootFile: undefined, reloadSeconds: 3600 });
    expect(loadConfig({ MDS_BLOB_FILE: "/mds/blob.jwt", MDS_ROOT_CERT_FILE: "/mds/root.pem" }).mds).toEqual({
      blobFile: "/mds/blob.jwt",
      rootFile: "/mds/root.pem",
      reloadSeconds: 3600,
    });
    expect(loadConfig({ MDS_BLOB_FILE: "/mds/blob.jwt", MDS_RELOAD_SECONDS: "0" }).mds?.reloadSeconds).toBe(0);
    expect(() => loadConfig({ MDS_ROOT_CERT_FILE: "/mds/root.pem" })).toThrow(/MDS_ROOT_CERT_FILE: set only with MDS_BLOB_FILE/);
  });

  it("requires TLS_CERT_FILE and TLS_KEY_FILE together", () => {
    expect(() => loadConfig({ TLS_CERT_FILE: "/c.pem" })).toThrow(/TLS_CERT_FILE, TLS_KEY_FILE/);
    expect(loadConfig({ TLS_CERT_FILE: "/c.pem", TLS_KEY_FILE: "/k.pem" }).tls).toEqual({
      certFile: "/c.pem",
      keyFile: "/k.pem",
    });
  });
});
