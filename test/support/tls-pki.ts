import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A PEM key and certificate pair, with the paths it was written to. */
export interface Issued {
  readonly key: Buffer;
  readonly cert: Buffer;
  readonly keyFile: string;
  readonly certFile: string;
}

export interface TestPki {
  readonly dir: string;
  readonly caFile: string;
  readonly ca: Buffer;
  /** A P-256 leaf signed by this CA; `san` as OpenSSL's subjectAltName (e.g. URI:spiffe://...). */
  issue(name: string, subjectCn: string, san: string | undefined, usage: "serverAuth" | "clientAuth"): Issued;
  remove(): void;
}

/**
 * A throwaway TLS CA and its server and client certificates (attestation-pki.ts makes the
 * attestation one), made with the openssl CLI (Debian's, present on every build machine): no
 * dependency, and the same tool operators use.
 */
export function createTestPki(caName = "dynauthn-test-ca"): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "dynauthn-pki-"));
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-subj", `/CN=${caName}`, "-days", "2",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  return {
    dir,
    caFile: join(dir, "ca.crt"),
    ca: readFileSync(join(dir, "ca.crt")),
    issue(name, subjectCn, san, usage) {
      const ext = [`extendedKeyUsage=${usage}`, "basicConstraints=CA:FALSE", ...(san ? [`subjectAltName=${san}`] : [])];
      writeFileSync(join(dir, `${name}.ext`), ext.join("\n") + "\n");
      openssl("req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${escapeSubject(subjectCn)}`);
      openssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", `${name}.crt`, "-days", "2", "-extfile", `${name}.ext`);
      const keyFile = join(dir, `${name}.key`);
      const certFile = join(dir, `${name}.crt`);
      return { key: readFileSync(keyFile), cert: readFileSync(certFile), keyFile, certFile };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** OpenSSL's -subj separates RDNs with '/': a CN holding one (a URI) escapes it with '\\'. */
function escapeSubject(value: string): string {
  return value.replace(/[\\/+=]/g, "\\$&");
}

/** A throwaway P-256 certificate for localhost, made with openssl: its cert and key files. */
export function selfSignedLocalhost(): { certFile: string; keyFile: string } {
  const dir = mkdtempSync(join(tmpdir(), "dynauthn-tls-"));
  const [certFile, keyFile] = [join(dir, "cert.pem"), join(dir, "key.pem")];
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", keyFile, "-out", certFile, "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
  ], { stdio: "ignore" });
  return { certFile, keyFile };
}
