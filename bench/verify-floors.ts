/**
 * `npm run bench:verify`: the verification floors alone, in this process, no service: raw ES256
 * verify, @simplewebauthn/server's verifyAuthenticationResponse and the service's own path
 * (preflight + fast verifier), each VERIFY_ROUNDS times (default 5), with medians.
 */
import { readFileSync } from "node:fs";
import { quantile } from "./load.js";
import { rawEs256Verify, serviceVerify, simpleWebAuthnVerify, type LocalCost } from "./floors.js";

const ROUNDS = Number(process.env.VERIFY_ROUNDS ?? "5");
const FLOORS: Readonly<Record<string, () => Promise<LocalCost>>> = {
  "raw ES256 verify (node:crypto, imported key)": () => rawEs256Verify(20_000),
  "@simplewebauthn/server verifyAuthenticationResponse": () => simpleWebAuthnVerify(2000),
  "service: preflight + fast verifier": () => serviceVerify(2000),
};

process.stdout.write(`load before: ${readFileSync("/proc/loadavg", "utf8").trim()}\n`);
for (const [name, floor] of Object.entries(FLOORS)) {
  const cpu: number[] = [];
  for (let round = 0; round < ROUNDS; round++) cpu.push((await floor()).cpuUs);
  const sorted = [...cpu].sort((a, b) => a - b);
  process.stdout.write(`${name}: median ${quantile(sorted, 0.5).toFixed(1)} µs CPU per op (rounds ${cpu.map((c) => c.toFixed(1)).join(", ")})\n`);
}
process.stdout.write(`load after: ${readFileSync("/proc/loadavg", "utf8").trim()}\n`);
