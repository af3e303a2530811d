/** Polls `read` until it gives a value (or `timeoutMs` passes): for what a server does after answering. */
export async function until<T>(read: () => T | undefined, timeoutMs: number, pollMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
