/**
 * A DevTools protocol session with a process started with `--inspect`, over the global WebSocket
 * (Node 20 needs `--experimental-websocket`; the soak's npm script passes it). The soak uses it to
 * read the service's live heap after a full collection, which nothing outside the process can see.
 */
export class Inspector {
  readonly #socket: WebSocket;
  readonly #pending = new Map<number, { done: (result: unknown) => void; fail: (err: Error) => void }>();
  #nextId = 1;

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.addEventListener("message", (event) => {
      const reply = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
      const waiter = reply.id === undefined ? undefined : this.#pending.get(reply.id);
      if (!waiter) return; // an event, not a reply
      this.#pending.delete(reply.id!);
      if (reply.error) waiter.fail(new Error(reply.error.message));
      else waiter.done(reply.result);
    });
  }

  static connect(url: string): Promise<Inspector> {
    const socket = new WebSocket(url);
    return new Promise((done, fail) => {
      socket.addEventListener("open", () => done(new Inspector(socket)), { once: true });
      socket.addEventListener("error", () => fail(new Error(`cannot reach the inspector at ${url}`)), { once: true });
    });
  }

  call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.#nextId++;
    this.#socket.send(JSON.stringify({ id, method, params }));
    return new Promise((done, fail) => this.#pending.set(id, { done: (r) => done(r as T), fail }));
  }

  /** V8's heap in use right after a full, forced collection: what the process really holds. */
  async liveHeapBytes(): Promise<number> {
    await this.call("HeapProfiler.collectGarbage");
    return (await this.call<{ usedSize: number }>("Runtime.getHeapUsage")).usedSize;
  }

  close(): void {
    this.#socket.close();
  }
}
