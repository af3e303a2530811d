import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

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
