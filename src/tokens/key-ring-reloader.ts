import type { Logger } from "pino";
import { every } from "../file-poll.js";
import type { KeyRing } from "./key-ring.js";
import type { SigningKey } from "./signing-key.js";

const DAY_MS = 86_400_000;

export interface KeyRingReloaderOptions {
  readonly ring: KeyRing;
  /** Reads the key source again (directory, KMS-encrypted files, ...). */
  readonly load: () => Promise<SigningKey[]>;
  readonly logger: Logger;
  readonly clock: () => number;
  /** The active key should be replaced after this many days. */
  readonly rotationDays: number;
}

/**
 * Picks up a rotated key ring without a restart by re-reading the source on an interval. An
 * interval rather than a file watch: a Kubernetes Secret volume is updated by swapping a symlink
 * (which inotify watchers often miss or see twice), the kubelet itself syncs Secrets only every
 * minute or so, and re-reading a few small files once a minute costs nothing.
 *
 * Logs are metric-ready (a stable `event` field): `signing_key_rotation_due` (warn, at most daily)
 * while the active key is older than the rotation period, `signing_keys_reloaded` (info) when the
 * ring changed, `signing_key_retired` (info) for keys whose tokens have all expired (their files
 * can be deleted) and `signing_keys_reload_failed` (error; the previous ring stays in use).
 */
export class KeyRingReloader {
  #stopPolling = () => {};
  #warnedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: KeyRingReloaderOptions) {}

  /** Reloads now; resolves true when the ring changed. Never throws: a bad source keeps the old ring. */
  async reload(): Promise<boolean> {
    const { ring, logger } = this.opts;
    let changed = false;
    try {
      const keys = await this.opts.load();
      changed = fingerprint(keys) !== fingerprint(ring.keys);
      if (changed) {
        ring.replace(keys);
        logger.info({ event: "signing_keys_reloaded", kids: keys.map((k) => k.kid) }, "signing keys reloaded");
      }
    } catch (err) {
      logger.error({ event: "signing_keys_reload_failed", err }, "signing keys could not be reloaded; keeping the previous ring");
    }
    this.check(changed);
    return changed;
  }

  /** Days the active key has been signing, for a gauge. */
  activeKeyAgeDays(): number {
    const now = this.opts.clock();
    return (now - this.opts.ring.signingKey(now).activatesAt) / DAY_MS;
  }

  start(intervalSeconds: number): void {
    this.check(true);
    this.#stopPolling = every(intervalSeconds, () => this.reload());
  }

  stop(): void {
    this.#stopPolling();
  }

  private check(changed: boolean): void {
    const { ring, logger, clock, rotationDays } = this.opts;
    const now = clock();
    const ageDays = this.activeKeyAgeDays();
    if (ageDays > rotationDays && (changed || now - this.#warnedAt >= DAY_MS)) {
      this.#warnedAt = now;
      const kid = ring.signingKey(now).kid;
      logger.warn(
        { event: "signing_key_rotation_due", kid, ageDays: Math.floor(ageDays), rotationDays },
        "the active signing key is older than the rotation period: run npm run keys:generate",
      );
    }
    if (changed) {
      for (const key of ring.retired(now)) {
        logger.info({ event: "signing_key_retired", kid: key.kid }, "signing key retired: its file can be deleted");
      }
    }
  }
}

function fingerprint(keys: readonly SigningKey[]): string {
  return keys.map((k) => `${k.kid}@${k.activatesAt}`).sort().join(",");
}
