import { stat } from "node:fs/promises";

/**
 * What changes when a file is edited or replaced: a Kubernetes ConfigMap or Secret volume swaps a
 * symlink to a new file (new inode), which stat follows.
 */
export async function fileStamp(path: string): Promise<string> {
  const s = await stat(path);
  return `${s.ino}:${s.size}:${s.mtimeMs}`;
}

/**
 * Runs `task` every `intervalSeconds` (0 or less: never) without keeping the process alive, for
 * the reloaders that poll their sources; returns what stops it.
 */
export function every(intervalSeconds: number, task: () => Promise<unknown>): () => void {
  if (intervalSeconds <= 0) return () => {};
  const timer = setInterval(() => void task(), intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
