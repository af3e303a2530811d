import { stat } from "node:fs/promises";
import type { Logger } from "pino";
import type { MdsCatalog } from "./mds-blob.js";
import { loadMdsCatalog, type MdsFiles } from "./mds-file.js";

/** Where registration and provider names read the current catalogue from. */
export type MdsCatalogSource = () => MdsCatalog | undefined;

interface FileVersion {
  readonly mtimeMs: number;
  readonly size: number;
}

async function versionOf(file: string): Promise<FileVersion> {
  const { mtimeMs, size } = await stat(file);
  return { mtimeMs, size };
}

/**
 * Picks up a refreshed BLOB without a restart: every interval it looks at the file, and when it
 * changed, verifies it exactly as at start and swaps it in if its serial number `no` is greater
 * (FIDO: ignore a BLOB whose number is not greater than the one held). A BLOB that does not
 * verify is logged (`mds_blob_reload_failed`) and the verified one in use is kept: unlike at
 * start, refusing here would only take trust anchors away from a running service.
 */
export class MdsBlobReloader {
  #current: MdsCatalog;
  #version: FileVersion | undefined;
  #timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly files: MdsFiles,
    initial: MdsCatalog,
    version: FileVersion,
    private readonly logger: Logger,
    private readonly clock: () => number,
  ) {
    this.#current = initial;
    this.#version = version;
  }

  /** Loads and verifies the BLOB (throws as loadMdsCatalog does: start-up refuses a bad BLOB). */
  static async open(files: MdsFiles, logger: Logger, clock: () => number = Date.now): Promise<MdsBlobReloader> {
    // Load first: its errors name MDS_BLOB_FILE. A file swapped in between is re-read on the next reload.
    const catalog = await loadMdsCatalog(files, new Date(clock()), logger);
    const version = await versionOf(files.blobFile);
    return new MdsBlobReloader(files, catalog, version, logger, clock);
  }

  readonly current = (): MdsCatalog => this.#current;

  /** Re-reads a changed file; resolves true when a newer BLOB is now in use. Never throws. */
  async reload(): Promise<boolean> {
    try {
      const version = await versionOf(this.files.blobFile);
      if (this.#version && version.mtimeMs === this.#version.mtimeMs && version.size === this.#version.size) return false;
      const next = await loadMdsCatalog(this.files, new Date(this.clock()), this.logger);
      this.#version = version;
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
    if (intervalSeconds <= 0) return;
    this.#timer = setInterval(() => void this.reload(), intervalSeconds * 1000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
