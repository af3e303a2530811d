import type { Logger } from "pino";
import { every, fileStamp } from "../file-poll.js";
import { MdsBlobError, type MdsCatalog } from "./mds-blob.js";
import { loadMdsCatalog, type MdsFiles } from "./mds-file.js";

/** Where registration and provider names read the current catalogue from. */
export type MdsCatalogSource = () => MdsCatalog | undefined;

/**
 * The highest BLOB serial number the service has used, kept where every replica and every
 * restart sees it (DynamoDB: src/store/mds-serial-store.ts). `raise` records `no` unless a
 * higher one is recorded and returns the highest recorded.
 */
export interface MdsSerialFloor {
  raise(no: number, now: number): Promise<number>;
}

/**
 * Picks up a refreshed BLOB without a restart: every interval it looks at the file, and when it
 * changed, verifies it exactly as at start and swaps it in if its serial number `no` is greater
 * (FIDO: ignore a BLOB whose number is not greater than the one held), then records its number
 * in the serial floor. A BLOB that does not verify is logged (`mds_blob_reload_failed`) and the
 * verified one in use is kept: unlike at start, refusing here would only take trust anchors away
 * from a running service.
 */
export class MdsBlobReloader {
  #current: MdsCatalog;
  /** The fileStamp of the BLOB file as last read. */
  #stamp: string;
  #stopPolling = () => {};

  private constructor(
    private readonly files: MdsFiles,
    initial: MdsCatalog,
    stamp: string,
    private readonly logger: Logger,
    private readonly clock: () => number,
    private readonly floor: MdsSerialFloor | undefined,
  ) {
    this.#current = initial;
    this.#stamp = stamp;
  }

  /**
   * Loads and verifies the BLOB (throws as loadMdsCatalog does: start-up refuses a bad BLOB), and
   * refuses one older than the newest the floor has seen: restoring an old genuine BLOB (from a
   * backup, an old image, a rolled-back volume) would bring back models revoked since. A store
   * that does not answer is logged and the BLOB used unchecked: the service starts without its
   * store (a DynamoDB blip must not stop every replica), and the next newer BLOB is recorded.
   */
  static async open(files: MdsFiles, logger: Logger, clock: () => number = Date.now, floor?: MdsSerialFloor): Promise<MdsBlobReloader> {
    // Load first: its errors name MDS_BLOB_FILE. A file swapped in between is re-read on the next reload.
    const catalog = await loadMdsCatalog(files, new Date(clock()), logger);
    const highest = await floor?.raise(catalog.no, clock()).catch((err: unknown) => {
      logger.error({ event: "mds_blob_serial_unchecked", no: catalog.no, error: err instanceof Error ? err.message : String(err) }, "FIDO MDS BLOB serial number could not be checked against the newest used");
      return catalog.no;
    });
    if (highest !== undefined && highest > catalog.no) {
      throw new MdsBlobError(
        `MDS_BLOB_FILE ${files.blobFile}: BLOB no ${catalog.no} is older than no ${highest}, which this service has already used; install the current BLOB (docs/attestation.md)`,
      );
    }
    const stamp = await fileStamp(files.blobFile);
    return new MdsBlobReloader(files, catalog, stamp, logger, clock, floor);
  }

  readonly current = (): MdsCatalog => this.#current;

  /** Re-reads a changed file; resolves true when a newer BLOB is now in use. Never throws. */
  async reload(): Promise<boolean> {
    try {
      const stamp = await fileStamp(this.files.blobFile);
      if (stamp === this.#stamp) return false;
      const next = await loadMdsCatalog(this.files, new Date(this.clock()), this.logger);
      this.#stamp = stamp;
      if (next.no <= this.#current.no) {
        this.logger.warn({ event: "mds_blob_not_newer", no: next.no, inUse: this.#current.no }, "FIDO MDS BLOB is not newer than the one in use; ignored");
        return false;
      }
      this.#current = next;
      this.logger.info({ event: "mds_blob_reloaded", no: next.no, entries: next.entries.size }, "FIDO MDS BLOB reloaded");
      await this.#record(next.no);
      return true;
    } catch (err) {
      this.logger.error(
        { event: "mds_blob_reload_failed", error: err instanceof Error ? err.message : String(err), inUse: this.#current.no },
        "FIDO MDS BLOB could not be reloaded; keeping the verified one in use",
      );
      return false;
    }
  }

  /** Raises the floor to a BLOB now in use; a store failure is logged: the newer BLOB stays in use either way. */
  async #record(no: number): Promise<void> {
    try {
      await this.floor?.raise(no, this.clock());
    } catch (err) {
      this.logger.warn({ event: "mds_blob_serial_not_recorded", no, error: err instanceof Error ? err.message : String(err) }, "FIDO MDS BLOB serial number could not be recorded");
    }
  }

  start(intervalSeconds: number): void {
    this.#stopPolling = every(intervalSeconds, () => this.reload());
  }

  stop(): void {
    this.#stopPolling();
  }
}
