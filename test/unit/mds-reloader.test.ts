import { mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { MdsBlobError } from "../../src/attestation/mds-blob.js";
import { MdsBlobReloader } from "../../src/attestation/mds-reloader.js";
import { createLogger } from "../../src/logger.js";
import { mdsSigningPki, signBlob } from "../support/attestation-pki.js";

describe("MDS BLOB reload", () => {
  const logger = createLogger("silent");
  let pki: Awaited<ReturnType<typeof mdsSigningPki>>;
  let dir: string;
  let touches = 0;

  const blobFile = () => path.join(dir, "blob.jwt");
  /** Writes the file with a new modification time, as a refresh job's rename would. */
  const write = (text: string) => {
    writeFileSync(blobFile(), text);
    touches += 1;
    utimesSync(blobFile(), 1_700_000_000 + touches, 1_700_000_000 + touches);
  };
  const blob = (no: number) => signBlob({ no, nextUpdate: "2060-01-01", entries: [] }, pki.signer, pki.chain);

  beforeAll(async () => {
    pki = await mdsSigningPki();
    dir = mkdtempSync(path.join(tmpdir(), "mds-reload-"));
    writeFileSync(path.join(dir, "root.pem"), pki.root.cert.toString());
  });

  const open = () => MdsBlobReloader.open({ blobFile: blobFile(), rootFile: path.join(dir, "root.pem") }, logger);

  it("swaps in a newer verified BLOB, and keeps the one in use when the new file is bad, older or unchanged", async () => {
    write(await blob(10));
    const reloader = await open();
    expect(reloader.current().no).toBe(10);

    expect(await reloader.reload()).toBe(false); // unchanged file: not even re-verified

    write(await blob(11));
    expect(await reloader.reload()).toBe(true);
    expect(reloader.current().no).toBe(11);

    write("<html>502 Bad Gateway</html>");
    expect(await reloader.reload()).toBe(false);
    expect(reloader.current().no).toBe(11);

    const [header, , signature] = (await blob(12)).split(".");
    write(`${header}.${Buffer.from(JSON.stringify({ no: 99, nextUpdate: "2060-01-01", entries: [] })).toString("base64url")}.${signature}`);
    expect(await reloader.reload()).toBe(false);
    expect(reloader.current().no).toBe(11);

    write(await blob(9));
    expect(await reloader.reload()).toBe(false);
    expect(reloader.current().no).toBe(11);

    write(await blob(12));
    expect(await reloader.reload()).toBe(true);
    expect(reloader.current().no).toBe(12);
  });

  it("refuses to open on a BLOB that does not verify or a missing file, naming MDS_BLOB_FILE", async () => {
    write("not a jwt");
    await expect(open()).rejects.toThrow(MdsBlobError);
    await expect(MdsBlobReloader.open({ blobFile: path.join(dir, "missing.jwt") }, logger)).rejects.toThrow(/^MDS_BLOB_FILE: cannot read/);
  });
});
