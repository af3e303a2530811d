import { EventEmitter, on } from "node:events";
import { Code, ConnectError, type ConnectRouter, type ServiceImpl } from "@connectrpc/connect";
import { AuthError } from "../errors.js";
import { toConnectError } from "./connect-error.js";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../gen/grpc/health/v1/health_pb.js";
import { DEFAULT_TRANSPORT_LIMITS, type TransportLimits } from "../server-limits/transport-limits.js";
import { CONNECTION } from "./connection.js";

export type WatchLimits = Pick<TransportLimits, "watchesPerConnection" | "watchesTotal">;

/**
 * Open Watch streams, per connection and in all. A Watch costs a stream and a listener for as
 * long as the client keeps it, so without a bound one client could hold any number of them.
 */
class WatchSlots {
  #total = 0;
  readonly #perConnection = new WeakMap<object, number>();

  constructor(private readonly limits: WatchLimits) {}

  /** Takes a slot for a Watch on `connection` or throws RESOURCE_EXHAUSTED; call the result to give it back. */
  take(connection: object | undefined): () => void {
    const onConnection = connection ? (this.#perConnection.get(connection) ?? 0) : 0;
    if (this.#total >= this.limits.watchesTotal) throw refused("watch_total");
    if (onConnection >= this.limits.watchesPerConnection) throw refused("watch_connection");
    this.#total += 1;
    if (connection) this.#perConnection.set(connection, onConnection + 1);
    return () => {
      this.#total -= 1;
      if (connection) this.#perConnection.set(connection, (this.#perConnection.get(connection) ?? 1) - 1);
    };
  }
}

function refused(limit: string): ConnectError {
  return toConnectError(new AuthError("RATE_LIMITED", "too many Health/Watch streams", { limit }));
}

/**
 * Serving status per service name, as reported by grpc.health.v1.Health. The empty name stands
 * for the whole server and starts SERVING, like grpc-go's health server.
 */
export class HealthState {
  readonly #statuses = new Map<string, Status>([["", Status.SERVING]]);
  // One "change" event for every service: an event named after the service would let a
  // service called "error" hit EventEmitter's special case.
  readonly #changes = new EventEmitter().setMaxListeners(0);
  #draining = false;
  readonly #watches: WatchSlots;

  constructor(watchLimits: WatchLimits = DEFAULT_TRANSPORT_LIMITS) {
    this.#watches = new WatchSlots(watchLimits);
  }

  /** Record a service's status. After drain() every service stays NOT_SERVING. */
  setServing(service: string, serving: boolean): void {
    this.#set(service, serving && !this.#draining ? Status.SERVING : Status.NOT_SERVING);
  }

  /** Mark every service NOT_SERVING for good, so load balancers stop routing before shutdown. */
  drain(): void {
    this.#draining = true;
    for (const service of this.#statuses.keys()) this.#set(service, Status.NOT_SERVING);
  }

  /** The service's status, or undefined if the service was never registered. */
  status(service: string): Status | undefined {
    return this.#statuses.get(service);
  }

  /** All registered services and their status. */
  entries(): IterableIterator<[string, Status]> {
    return this.#statuses.entries();
  }

  /**
   * The current status (SERVICE_UNKNOWN for unregistered services), then every change, until
   * `signal` aborts. Throws RESOURCE_EXHAUSTED when `connection` or the process holds too many.
   */
  async *watch(service: string, signal: AbortSignal, connection?: object): AsyncGenerator<Status> {
    if (signal.aborted) return; // on() would throw
    const release = this.#watches.take(connection);
    // Subscribe before reading the current status so that no change slips in between.
    const changes = on(this.#changes, "change", { signal });
    try {
      yield this.status(service) ?? Status.SERVICE_UNKNOWN;
      for await (const [name, status] of changes) {
        if (name === service) yield status as Status;
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    } finally {
      release();
      await changes.return?.();
    }
  }

  #set(service: string, status: Status): void {
    if (this.#statuses.get(service) === status) return;
    this.#statuses.set(service, status);
    this.#changes.emit("change", service, status);
  }
}

/** Routes serving grpc.health.v1.Health from `state`. */
export function healthRoutes(state: HealthState): (router: ConnectRouter) => void {
  return (router) => {
    router.service(Health, {
      check(req) {
        const status = state.status(req.service);
        if (status === undefined) {
          throw new ConnectError(`unknown service ${JSON.stringify(req.service)}`, Code.NotFound);
        }
        return { status };
      },
      async *watch(req, ctx) {
        for await (const status of state.watch(req.service, ctx.signal, ctx.values.get(CONNECTION))) yield { status };
      },
      list() {
        const statuses = Object.fromEntries([...state.entries()].map(([service, status]) => [service, { status }]));
        return { statuses };
      },
    } satisfies ServiceImpl<typeof Health>);
  };
}
