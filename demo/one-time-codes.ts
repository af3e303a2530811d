import { createHash, randomInt, timingSafeEqual } from "node:crypto";

/** How long a code is accepted. */
const CODE_TTL_MS = 5 * 60_000;

/** Wrong guesses that end a code: 5 tries at 10^6 codes leave a guesser 1 chance in 200,000. */
const MAX_ATTEMPTS = 5;

/** Codes kept at once; beyond it the oldest goes, so requests for made-up names cannot fill memory. */
const MAX_PENDING = 10_000;

interface Pending {
  readonly digest: Buffer;
  readonly expiresAt: number;
  attempts: number;
}

/**
 * The demo's stand-in for a password: a 6-digit code per username, which the BFF prints to its
 * log instead of mailing it. Single use, short-lived, a few tries; a new request replaces the
 * code. Only a digest is kept, and it is compared in constant time.
 */
export class OneTimeCodes {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A fresh code for `username`, replacing any earlier one. */
  issue(username: string): string {
    const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
    this.pending.delete(username);
    if (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
    this.pending.set(username, { digest: digest(code), expiresAt: this.now() + CODE_TTL_MS, attempts: 0 });
    return code;
  }

  /** Whether `code` is the live code for `username`; a right code is used up. */
  redeem(username: string, code: string): boolean {
    const entry = this.pending.get(username);
    if (!entry || entry.expiresAt <= this.now()) {
      this.pending.delete(username);
      return false;
    }
    if (timingSafeEqual(entry.digest, digest(code))) {
      this.pending.delete(username);
      return true;
    }
    if (++entry.attempts >= MAX_ATTEMPTS) this.pending.delete(username);
    return false;
  }
}

/** Fixed-length digests, so the comparison's time says nothing about the code's length either. */
function digest(code: string): Buffer {
  return createHash("sha256").update(code).digest();
}
