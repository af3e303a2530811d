import type { IncomingMessage } from "node:http";
import { HttpError, type Headers } from "./http.js";
import type { Session } from "./session.js";

/** What a BFF route answers. */
export interface Reply {
  readonly status?: number;
  readonly body: unknown;
  readonly headers?: Headers;
}

/** A request as a BFF route sees it: the parsed JSON body and the session, if any. */
export interface Call {
  readonly req: IncomingMessage;
  readonly body: Record<string, unknown>;
  readonly session: Session | undefined;
}

/** BFF routes by "METHOD /path". */
export type Routes = Record<string, (call: Call) => Promise<Reply>>;

/** The call's session; 401 SIGNED_OUT without one. */
export function signedIn(call: Call): Session {
  if (!call.session) throw new HttpError(401, "SIGNED_OUT", "sign in first");
  return call.session;
}
