/**
 * Issue 13, observation "BLOB rollback": the highest BLOB serial number used is kept in
 * DynamoDB (Local here), so a restored older BLOB is refused at start, on any replica.
 */
import { mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { MdsBlobReloader } from "../../src/attestation/mds-reloader.js";
import { createLogger } from "../../src/logger.js";
import { createStore } from "../../src/store/index.js";
import type { MdsSerialStore } from "../../src/store/mds-serial-store.js";
import { createDynamoClient } from "../../src/store/client.js";
import { createTestTables } from "../support/service.js";
import { mdsSigningPki, signBlob } from "../support/attestation-pki.js";

describe("MDS BLOB serial number floor on DynamoDB Local", () => {
  const logger = createLogger("silent");
  let pki: Awaited<ReturnType<typeof mdsSigningPki>>;
  let dir: string;
  let floor: MdsSerialStore;
  let touches = 0;

  const blobFile = () => path.join(dir, "blob.jwt");
  const install = async (no: number) => {
    writeFileSync(blobFile(), await signBlob({ no, nextUpdate: "2060-01-01", entries: [] }, pki.signer, pki.chain));
    touches += 1;
    utimesSync(blobFile(), 1_700_000_000 + touches, 1_700_000_000 + touches);
  };
  const open = () => MdsBlobReloader.open({ blobFile: blobFile(), rootFile: path.join(dir, "root.pem") }, logger, Date.now, floor);

  beforeAll(async () => {
    pki = await mdsSigningPki();
    dir = mkdtempSync(path.join(tmpdir(), "mds-rollback-"));
    writeFileSync(path.join(dir, "root.pem"), pki.root.cert.toString());
    const { dynamo, tablePrefix } = await createTestTables();
    floor = createStore(dynamo, tablePrefix).mdsSerial;
  });

  it("refuses at start a BLOB older than one already used, and accepts the same or a newer one", async () => {
    await install(10);
    expect((await open()).current().no).toBe(10);
    await install(9); // an older, genuine BLOB restored, then a restart
    await expect(open()).rejects.toThrow(/MDS_BLOB_FILE .*: BLOB no 9 is older than no 10, which this service has already used/);
    await install(10);
    expect((await open()).current().no).toBe(10); // a plain restart
  });

  it("a reload records the newer BLOB, so a restart with the one it replaced is refused; the reloader itself never goes back", async () => {
    await install(20);
    const reloader = await open();
    await install(21);
    expect(await reloader.reload()).toBe(true);
    await install(20);
    expect(await reloader.reload()).toBe(false);
    expect(reloader.current().no).toBe(21);
    await expect(open()).rejects.toThrow(/BLOB no 20 is older than no 21/);
    expect(await floor.raise(15, Date.now())).toBe(21); // the floor never goes down
  });

  it("starts unchecked, with the BLOB in the file, when the store does not answer", async () => {
    const down = createDynamoClient({ endpoint: "http://127.0.0.1:9", region: "us-east-1", localCredentials: true, maxAttempts: 1 });
    await install(5);
    const reloader = await MdsBlobReloader.open({ blobFile: blobFile(), rootFile: path.join(dir, "root.pem") }, logger, Date.now, createStore(down, "x-").mdsSerial);
    expect(reloader.current().no).toBe(5);
  });
});
