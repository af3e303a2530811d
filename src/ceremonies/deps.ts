import type { Logger } from "pino";
import type { Auditor } from "../audit/auditor.js";
import type { Caches } from "./credential-cache.js";
import type { BeginLimits } from "../limits/begin-limits.js";
import type { Store } from "../store/index.js";
import type { KeyRing } from "../tokens/key-ring.js";

/** What the ceremony services need; tests build it with a real store and their own clock. */
export interface CeremonyDeps {
  readonly store: Store;
  readonly caches: Caches;
  /** Signs session tokens and grants with its active key; verifies with every published one. */
  readonly keys: KeyRing;
  readonly logger: Logger;
  /** Epoch milliseconds; injected so expiry can be tested without waiting. */
  readonly clock: () => number;
  /** Checked first by every Begin, before any I/O. */
  readonly limits: BeginLimits;
  /** Writes every audit event, successes and sampled refusals alike. */
  readonly auditor: Auditor;
  /** Derives decoy credential ids for unknown users (ServerSecrets.decoyKey). */
  readonly decoyKey: Uint8Array;
}
