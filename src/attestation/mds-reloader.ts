import type { Logger } from "pino";
import { every, fileStamp } from "../file-poll.js";
import type { MdsCatalog } from "./mds-blob.js";
import { loadMdsCatalog, type MdsFiles } from "./mds-file.js";

/** Where registration and provider names read the current catalogue from. */
export type MdsCatalogSource = () => MdsCatalog | undefined;

/**
 * Picks up a refreshed BLOB without a restart: every interval it looks at the file, and when it
 * changed, verifies it exactly as at start and swaps it in if its serial number `no` is greater
 * (FIDO: ignore a BLOB whose number is not greater than the one held). A BLOB that does not
 * verify is logged (`mds_blob_reload_failed`) and the verified one in use is kept: unlike at
 * start, refusing here would only take trust anchors away from a running service.
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
  ) {
    this.#current = initial;
    this.#stamp = stamp;
  }

  /** Loads and verifies the BLOB (throws as loadMdsCatalog does: start-up refuses a bad BLOB). */
  static async open(files: MdsFiles, logger: Logger, clock: () => number = Date.now): Promise<MdsBlobReloader> {
    // Load first: its errors name MDS_BLOB_FILE. A file swapped in between is re-read on the next reload.
    const catalog = await loadMdsCatalog(files, new Date(clock()), logger);
    const stamp = await fileStamp(files.blobFile);
    return new MdsBlobReloader(files, catalog, stamp, logger, clock);
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
      return true;
    } catch (err) {
      this.logger.error(
        { event: "mds_blob_reload_failed", error: err instanceof Error ? err.message : String(err), inUse: this.#current.no },
        "FIDO MDS BLOB could not be reloaded; keeping the verified one in use",
      );
      return false;
    }
  }

  start(intervalSeconds: number): void {
    this.#stopPolling = every(intervalSeconds, () => this.reload());
  }

  stop(): void {
    this.#stopPolling();
  }
}
