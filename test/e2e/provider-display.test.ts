import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyMdsBlob } from "../../src/attestation/mds-blob.js";
import { ListCredentialsRequestSchema, type ListCredentialsResponse } from "../../src/gen/authn/v1/auth_service_pb.js";
import { register } from "../support/ceremonies.js";
import { unary } from "../support/grpc-js-client.js";
import { startTestService, type TestService } from "../support/service.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";
import { mdsEntry, mdsSigningPki, PNG_ICON, signBlob, withIcon } from "../support/attestation-pki.js";

const YUBIKEY_5 = "cb69481e-8ff7-4039-93ec-0a2729a154a8";
const REMOTE_ICON_MODEL = "fa2b99dc-9e39-4257-8f92-4a30d23c4118";
const GOOGLE = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4";

describe("provider display in ListCredentials", () => {
  let svc: TestService;

  beforeAll(async () => {
    const pki = await mdsSigningPki();
    const entries = [
      withIcon(mdsEntry(YUBIKEY_5, "YubiKey 5 (from MDS)", []), PNG_ICON),
      // A statement whose icon is a remote URL, and one whose icon is no string: the BLOB still verifies.
      withIcon(mdsEntry(REMOTE_ICON_MODEL, "Remote icon key", []), "https://vendor.example/track.png"),
      withIcon(mdsEntry("0bb43545-fd2c-4185-87dd-feb0b2916ace", "Odd icon key", []), { src: "x" }),
    ];
    const mds = await verifyMdsBlob(await signBlob({ no: 1, nextUpdate: "2060-01-01", entries }, pki.signer, pki.chain), [pki.root.cert], new Date());
    svc = await startTestService(undefined, { mds });
  });
  afterAll(() => svc?.close());

  it("a credential of a model MDS lists with an icon carries name and light icon, over Connect and gRPC", async () => {
    await register(svc, new SoftAuthenticator({ aaguid: YUBIKEY_5 }), "iconic");
    const [viaConnect] = (await svc.connect.listCredentials({ userId: "iconic" })).credentials;
    expect([viaConnect?.providerName, viaConnect?.providerIconLight, viaConnect?.providerIconDark]).toEqual(["YubiKey 5 (from MDS)", PNG_ICON, ""]);
    const viaGrpc = await unary<ListCredentialsResponse>(svc.grpc, "listCredentials", create(ListCredentialsRequestSchema, { userId: "iconic" }));
    expect(viaGrpc.credentials.map((c) => [c.providerName, c.providerIconLight, c.providerIconDark])).toEqual([["YubiKey 5 (from MDS)", PNG_ICON, ""]]);
  });

  it("an icon that is not an inline PNG or SVG never reaches the caller; the name still does", async () => {
    await register(svc, new SoftAuthenticator({ aaguid: REMOTE_ICON_MODEL }), "remote");
    const [credential] = (await svc.connect.listCredentials({ userId: "remote" })).credentials;
    expect([credential?.providerName, credential?.providerIconLight, credential?.providerIconDark]).toEqual(["Remote icon key", "", ""]);
  });

  it("a passkey provider only the community list names has a name and no icon", async () => {
    await register(svc, new SoftAuthenticator({ aaguid: GOOGLE }), "synced");
    const [credential] = (await svc.connect.listCredentials({ userId: "synced" })).credentials;
    expect([credential?.providerName, credential?.providerIconLight, credential?.providerIconDark]).toEqual(["Google Password Manager", "", ""]);
  });
});
