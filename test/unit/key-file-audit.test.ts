/**
 * Issue 13, observation "key files": signing key files are checked for permissions and links
 * that expose them, and the finding is logged (without key material), once.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { KeyFileAudit, parseKeyFiles, readKeyDirectory, writeNewKeyFile } from "../../src/tokens/key-files.js";

const T0 = Date.UTC(2026, 10, 15, 12, 0, 0);

function capture() {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      raw.push(chunk.toString());
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const audit = new KeyFileAudit(pino({ level: "warn" }, stream));
  const warnings = () => lines.map((l) => [l.msg, String(l.path).split("/").pop(), l.mode]);
  return { audit, warnings, raw };
}

describe("key file audit", () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "keys-audit-"));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it("says nothing for a 0600 key in a private directory, nor for group read (the chart's 0440 with fsGroup)", async () => {
    const dir = tempDir();
    const { path } = await writeNewKeyFile(dir, "ES256", T0);
    const { audit, warnings } = capture();
    await readKeyDirectory(dir, audit);
    chmodSync(path, 0o440);
    await readKeyDirectory(dir, audit);
    expect(warnings()).toEqual([]);
  });

  it("warns, once and without key material, for a key others may read or write and for a world-writable directory", async () => {
    const dir = tempDir();
    const { path } = await writeNewKeyFile(dir, "ES256", T0);
    const name = path.split("/").pop();
    chmodSync(path, 0o664);
    chmodSync(dir, 0o777);
    const { audit, warnings, raw } = capture();
    const keys = await parseKeyFiles(await readKeyDirectory(dir, audit));
    await readKeyDirectory(dir, audit); // a reload: nothing new to say
    expect(keys).toHaveLength(1); // still loaded: a warning, not a refusal
    expect(warnings()).toEqual([
      ["key directory is world-writable: anyone on the host can add or replace a signing key", dir.split("/").pop(), undefined],
      ["private key file may be written by others than its owner", name, "0664"],
      ["private key file is readable by every user on the host", name, "0664"],
    ]);
    expect(raw.join("")).not.toMatch(/PRIVATE KEY|"d":/);
  });

  it("follows a Kubernetes Secret volume's links silently, and warns for a link that leaves the key directory", async () => {
    const dir = tempDir();
    const written = await writeNewKeyFile(join(dir, "..2026_11_24"), "ES256", T0);
    const name = written.path.split("/").pop()!;
    symlinkSync("..2026_11_24", join(dir, "..data"));
    symlinkSync(join("..data", name), join(dir, name));
    const elsewhere = tempDir();
    const stray = await writeNewKeyFile(elsewhere, "ES256", T0 + 1000);
    const strayName = stray.path.split("/").pop()!;
    symlinkSync(stray.path, join(dir, strayName));
    mkdirSync(join(dir, "sub"));
    const { audit, warnings } = capture();
    const keys = await parseKeyFiles(await readKeyDirectory(dir, audit));
    expect(keys.map((k) => k.kid).sort()).toEqual([written.key.kid, stray.key.kid].sort());
    expect(warnings()).toEqual([["key file is a link to a file outside the key directory", strayName, undefined]]);
  });
});
