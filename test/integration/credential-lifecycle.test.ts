import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditEventType } from "../../src/gen/authn/v1/audit_pb.js";
import { ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { assertion, expectRpcError, register } from "../support/ceremonies.js";
import { closeAll, startReplicas, type TestService } from "../support/service.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";

describe("credential lifecycle", () => {
  let a: TestService;
  let b: TestService;

  beforeAll(async () => {
    [a, b] = await startReplicas();
  });
  afterAll(() => closeAll(a, b));

  it("lists a user's credentials with their facts and last use", async () => {
    const authenticator = new SoftAuthenticator({ backupEligible: true });
    const id = await register(a, authenticator, "lister");
    await a.connect.finishAuthentication({ credentialJson: await assertion(a, authenticator, "lister") });
    const { credentials } = await a.connect.listCredentials({ userId: "lister" });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]).toMatchObject({
      credentialId: id,
      userId: "lister",
      backupEligible: true,
      backedUp: true,
      transports: ["internal"],
      revocationReason: "",
    });
    expect(credentials[0]!.lastUsedAt).toBeDefined();
    expect(credentials[0]!.revokedAt).toBeUndefined();
    expect((await a.connect.listCredentials({ userId: "nobody" })).credentials).toEqual([]);
  });

  it("renames only the owner's credential", async () => {
    const id = await register(a, new SoftAuthenticator(), "renamer");
    const { credential } = await a.connect.renameCredential({ userId: "renamer", credentialId: id, name: "YubiKey" });
    expect(credential?.name).toBe("YubiKey");
    await expectRpcError(
      a.connect.renameCredential({ userId: "someone-else", credentialId: id, name: "mine now" }),
      Code.NotFound,
      "CREDENTIAL_NOT_FOUND",
    );
    expect((await a.connect.listCredentials({ userId: "renamer" })).credentials[0]?.name).toBe("YubiKey");
  });

  it("a revoked credential keeps its name: RenameCredential is FAILED_PRECONDITION, on either replica", async () => {
    const id = await register(a, new SoftAuthenticator(), "rename-revoked");
    await a.connect.renameCredential({ userId: "rename-revoked", credentialId: id, name: "Old phone" });
    await a.connect.revokeCredential({ userId: "rename-revoked", credentialId: id, reason: "lost" });
    await expectRpcError(
      b.connect.renameCredential({ userId: "rename-revoked", credentialId: id, name: "Work phone" }),
      Code.FailedPrecondition,
      "CREDENTIAL_ALREADY_REVOKED",
    );
    const [kept] = (await a.connect.listCredentials({ userId: "rename-revoked" })).credentials;
    expect([kept?.name, kept?.revocationReason]).toEqual(["Old phone", "lost"]);
    // Only the owner learns that it is revoked: for anyone else it does not exist.
    await expectRpcError(b.connect.renameCredential({ userId: "someone-else", credentialId: id, name: "x" }), Code.NotFound, "CREDENTIAL_NOT_FOUND");
    const audited = (await a.connect.listAuditEvents({ userId: "rename-revoked" })).events.filter((e) => e.type === AuditEventType.CREDENTIAL_RENAMED);
    expect(audited.map((e) => e.details.name)).toEqual(["Old phone"]);
  });

  it("a credential name with a control, bidi or separator character is FIELD_INVALID and changes nothing", async () => {
    const id = await register(a, new SoftAuthenticator(), "rename-text");
    await a.connect.renameCredential({ userId: "rename-text", credentialId: id, name: "<b>Laptop</b>" });
    for (const name of ["a\u202e\u0000\n<script>", "Laptop\u202Egnp.exe", "Key\nadmin"]) {
      const err = await expectRpcError(a.connect.renameCredential({ userId: "rename-text", credentialId: id, name }), Code.InvalidArgument, "FIELD_INVALID");
      expect(err.findDetails(ErrorInfoSchema)[0]?.metadata.field).toBe("name");
    }
    expect((await a.connect.listCredentials({ userId: "rename-text" })).credentials[0]?.name).toBe("<b>Laptop</b>");
  });

  it("revocation on replica A takes effect on replica B although B has the credential cached", async () => {
    const authenticator = new SoftAuthenticator();
    const id = await register(a, authenticator, "revoked-user");
    await b.connect.finishAuthentication({ credentialJson: await assertion(b, authenticator, "revoked-user") });
    expect(b.app.caches.credentials.has(`default\0${id}`)).toBe(true);

    const { credential } = await a.connect.revokeCredential({ userId: "revoked-user", credentialId: id, reason: "lost device" });
    expect(credential).toMatchObject({ revocationReason: "lost device" });
    expect(credential?.revokedAt).toBeDefined();

    await expectRpcError(
      b.connect.finishAuthentication({ credentialJson: await assertion(b, authenticator, undefined) }),
      Code.Unauthenticated,
      "CREDENTIAL_REVOKED",
    );
    // The revoking replica drops it from allowCredentials at once (the user now gets a decoy).
    const options = JSON.parse((await a.connect.beginAuthentication({ userId: "revoked-user" })).optionsJson);
    expect(options.allowCredentials.map((c: { id: string }) => c.id)).not.toContain(id);
    // Revoking again changes nothing.
    const again = await a.connect.revokeCredential({ userId: "revoked-user", credentialId: id, reason: "other" });
    expect(again.credential).toMatchObject({ revocationReason: "lost device", revokedAt: credential?.revokedAt });
    await expectRpcError(
      a.connect.revokeCredential({ userId: "not-the-owner", credentialId: id, reason: "x" }),
      Code.NotFound,
      "CREDENTIAL_NOT_FOUND",
    );
  });

  it("DeleteUser erases credentials and the user handle; sign-in with a cached credential fails", async () => {
    const authenticator = new SoftAuthenticator();
    await register(a, authenticator, "erased");
    await register(a, new SoftAuthenticator(), "erased");
    await b.connect.finishAuthentication({ credentialJson: await assertion(b, authenticator, "erased") });
    const handleBefore = JSON.parse((await a.connect.beginRegistration({ userId: "erased", userName: "e" })).optionsJson).user.id;

    expect(await a.connect.deleteUser({ userId: "erased" })).toMatchObject({ deletedCredentials: 2 });
    expect((await a.connect.listCredentials({ userId: "erased" })).credentials).toEqual([]);
    await expectRpcError(
      b.connect.finishAuthentication({ credentialJson: await assertion(b, authenticator, undefined) }),
      Code.Unauthenticated,
      "CREDENTIAL_UNKNOWN",
    );
    const handleAfter = JSON.parse((await a.connect.beginRegistration({ userId: "erased", userName: "e" })).optionsJson).user.id;
    expect(handleAfter).not.toBe(handleBefore);
    expect(await a.connect.deleteUser({ userId: "erased" })).toMatchObject({ deletedCredentials: 0 });
  });
});
