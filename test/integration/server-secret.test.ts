import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadServerSecrets, MIN_SECRET_BYTES, parseServerSecrets, serverSecretsOf } from "../../src/server-secrets.js";
import { generateSigningKey } from "../../src/tokens/signing-key.js";
import { assertion, expectRpcError, register } from "../support/ceremonies.js";
import { closeAll, startTestService, type TestService } from "../support/service.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";

const decoyIdOf = async (svc: TestService, userId: string) =>
  (JSON.parse((await svc.connect.beginAuthentication({ userId })).optionsJson) as { allowCredentials: { id: string }[] }).allowCredentials[0]!.id;

/**
 * Replicas on one store whose signing keys differ (started on either side of a key activation)
 * but which share the server secret (issue 13: page tokens and decoy ids no longer hang on the
 * signing key).
 */
describe("the server secret is independent of the signing key", () => {
  const oldSecret = randomBytes(MIN_SECRET_BYTES);
  const newSecret = randomBytes(MIN_SECRET_BYTES);
  let a: TestService;
  let b: TestService;
  let pageToken: string;

  beforeAll(async () => {
    a = await startTestService(undefined, { serverSecrets: serverSecretsOf([oldSecret]) });
    b = await startTestService({ ...a, signingKey: await generateSigningKey() });
    expect(b.signingKey.kid).not.toBe(a.signingKey.kid);
    const authenticator = new SoftAuthenticator();
    await register(a, authenticator, "paged");
    for (let i = 0; i < 3; i++) await a.connect.finishAuthentication({ credentialJson: await assertion(a, authenticator, "paged") });
    pageToken = (await a.connect.listAuditEvents({ userId: "paged", pageSize: 2 })).nextPageToken;
    expect(pageToken).not.toBe("");
  });
  afterAll(() => closeAll(a, b));

  it("replicas with different signing keys accept each other's page tokens", async () => {
    const onB = await b.connect.listAuditEvents({ userId: "paged", pageSize: 2, pageToken });
    const onA = await a.connect.listAuditEvents({ userId: "paged", pageSize: 2, pageToken });
    expect(onB.events.map((e) => e.eventId)).toEqual(onA.events.map((e) => e.eventId));
    expect(onB.events).toHaveLength(2);
  });

  it("replicas with different signing keys give an unknown user the same decoy id", async () => {
    const id = await decoyIdOf(a, "nobody-here");
    expect(await decoyIdOf(b, "nobody-here")).toBe(id);
    expect(await decoyIdOf(a, "nobody-else")).not.toBe(id);
  });

  it("after a rotation the previous secret still opens page tokens; without it they are refused", async () => {
    const rotated = await startTestService(a, { serverSecrets: serverSecretsOf([newSecret, oldSecret]) });
    const dropped = await startTestService(a, { serverSecrets: serverSecretsOf([newSecret]) });
    try {
      const page = await rotated.connect.listAuditEvents({ userId: "paged", pageSize: 2, pageToken });
      expect(page.events).toHaveLength(2);
      await expectRpcError(dropped.connect.listAuditEvents({ userId: "paged", pageSize: 2, pageToken }), Code.InvalidArgument, "FIELD_INVALID");
      // New tokens are sealed with the new secret, which the replica still on the old one cannot open.
      const fresh = (await rotated.connect.listAuditEvents({ userId: "paged", pageSize: 1 })).nextPageToken;
      await dropped.connect.listAuditEvents({ userId: "paged", pageSize: 1, pageToken: fresh });
      await expectRpcError(a.connect.listAuditEvents({ userId: "paged", pageSize: 1, pageToken: fresh }), Code.InvalidArgument, "FIELD_INVALID");
      // Decoys follow the current secret only.
      expect(await decoyIdOf(rotated, "nobody-here")).toBe(await decoyIdOf(dropped, "nobody-here"));
    } finally {
      await closeAll(rotated, dropped);
    }
  });
});

describe("SERVER_SECRETS_FILE", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "dynauthn-secret-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("reads the current secret first, then previous ones, in base64 or base64url, skipping comments", () => {
    const one = randomBytes(32);
    const two = randomBytes(48);
    const text = `# rotated 2026-12-01\n${one.toString("base64url")}\n\n  ${two.toString("base64")}  \r\n`;
    expect(parseServerSecrets(text).map((s) => Buffer.from(s).toString("hex"))).toEqual([one.toString("hex"), two.toString("hex")]);
  });

  it.each([
    ["an empty file", "\n# nothing\n", /no secret/],
    ["a short secret", randomBytes(16).toString("base64"), /line 1: not base64 of at least 32 bytes/],
    ["text that is not base64", `# a\n${"not base64!".repeat(5)}`, /line 2: not base64/],
  ])("refuses %s without quoting it", async (_what, text, message) => {
    const file = join(dir, "secrets");
    await writeFile(file, text);
    const err = await loadServerSecrets(file).catch((e: Error) => e);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain(text.trim().split("\n").at(-1));
  });
});
