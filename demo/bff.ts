import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import { AuthService, UserVerificationRequirement, type Credential } from "../src/gen/authn/v1/auth_service_pb.js";
import { DenyReason, type OperationSchema } from "../src/gen/authn/v1/step_up_pb.js";
import { field, HttpError, readJson, sendError, sendJson, sendStatic } from "./http.js";
import { clearedSessionCookie, sessionCookie, sessionReader, type Session } from "./session.js";
import { UserDirectory } from "./users.js";

/**
 * The demo's backend-for-frontend: the page talks JSON to it, it talks to dynauthn like a product
 * backend would. It owns usernames and decides the user id of every registration; the browser
 * never reaches dynauthn.
 */
export interface BffOptions {
  /** A dynauthn AuthService client (the demo and the tests use gRPC over HTTP/2). */
  readonly auth: Client<typeof AuthService>;
  /** dynauthn's JWK Set (GET /.well-known/jwks.json on its port), to verify session cookies. */
  readonly jwksUrl: URL;
  /** This site's origin, e.g. http://localhost:8080: state-changing requests must come from it. */
  readonly origin: string;
  /** The folder holding index.html, app.js and style.css. */
  readonly publicDir: string;
}

interface Reply {
  readonly status?: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

interface Call {
  readonly req: IncomingMessage;
  readonly body: Record<string, unknown>;
  readonly session: Session | undefined;
}

export function createBff(opts: BffOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { auth } = opts;
  const users = new UserDirectory();
  const readSession = sessionReader(opts.jwksUrl);
  const signedIn = (call: Call): Session => {
    if (!call.session) throw new HttpError(401, "SIGNED_OUT", "sign in first");
    return call.session;
  };

  const routes: Record<string, (call: Call) => Promise<Reply>> = {
    "GET /api/session": async ({ session }) => ({
      body: session
        ? {
            signedIn: true,
            username: users.nameOf(session.userId) ?? session.userId,
            authTime: session.authTime,
            amr: session.amr,
            acr: session.acr,
          }
        : { signedIn: false },
    }),

    "POST /api/signup/begin": async ({ body }) => {
      const username = field(body, "username");
      const userId = users.idForSignUp(username);
      if (userId === undefined) throw new HttpError(409, "USERNAME_TAKEN", `${username} is taken`);
      return { body: await beginRegistration(userId, username) };
    },

    // A signed-in user adds another passkey (a security key, a second device) to their account.
    "POST /api/passkeys/begin": async (call) => {
      const { userId } = signedIn(call);
      return { body: await beginRegistration(userId, users.nameOf(userId) ?? userId) };
    },

    "POST /api/register/finish": async ({ body }) => {
      const { credential } = await auth.finishRegistration({
        credentialJson: JSON.stringify(body.credential),
        credentialName: typeof body.name === "string" ? body.name.trim() : "",
      });
      users.confirm(credential!.userId);
      return { body: { passkey: passkeyView(credential!) } };
    },

    "POST /api/signin/begin": async ({ body }) => {
      const username = typeof body.username === "string" ? body.username.trim() : "";
      const begin = await auth.beginAuthentication({
        // No username: a discoverable ceremony (usernameless or conditional-UI autofill).
        userId: username === "" ? "" : users.idForSignIn(username),
        userVerification:
          body.requireUserVerification === true
            ? UserVerificationRequirement.REQUIRED
            : UserVerificationRequirement.UNSPECIFIED,
      });
      return { body: { options: JSON.parse(begin.optionsJson) } };
    },

    "POST /api/signin/finish": async ({ req, body }) => {
      const done = await auth.finishAuthentication({
        credentialJson: JSON.stringify(body.credential),
        client: { ip: req.socket.remoteAddress ?? "", userAgent: req.headers["user-agent"] ?? "" },
      });
      return {
        body: { username: users.nameOf(done.userId) ?? done.userId, userVerified: done.userVerified },
        headers: { "set-cookie": sessionCookie(done.sessionToken, timestampDate(done.expiresAt!)) },
      };
    },

    "POST /api/signout": async () => ({ body: { signedIn: false }, headers: { "set-cookie": clearedSessionCookie() } }),

    "GET /api/passkeys": async (call) => {
      const { credentials } = await auth.listCredentials({ userId: signedIn(call).userId });
      return { body: { passkeys: credentials.map(passkeyView) } };
    },

    "POST /api/passkeys/revoke": async (call) => {
      const { credential } = await auth.revokeCredential({
        userId: signedIn(call).userId,
        credentialId: field(call.body, "credentialId"),
        reason: "revoked by the user on the passkeys page",
      });
      return { body: { passkey: passkeyView(credential!) } };
    },

    // The sensitive action: dynauthn's VerifyOperation decides whether this session may do it
    // now. It is single-use and needs user verification, so the session alone never suffices:
    // the first call gets a challenge bound to this user and this operation, the second brings the
    // passkey's answer to it.
    "POST /api/notes/delete-all": async (call) => {
      const session = signedIn(call);
      const verdict = await auth.verifyOperation({
        sessionToken: session.token,
        operation: deleteAllNotes(session.userId),
        requirement: { requireUserVerification: true, singleUse: true },
        evidence:
          call.body.credential === undefined
            ? { case: undefined }
            : { case: "credentialJson", value: JSON.stringify(call.body.credential) },
      });
      const { details } = verdict;
      switch (details.case) {
        case "allowed":
          return { body: { deleted: true, acr: details.value.acr, amr: details.value.amr } };
        case "stepUpRequired":
          return {
            status: 401,
            headers: { "www-authenticate": details.value.wwwAuthenticate },
            body: {
              error: "STEP_UP_REQUIRED",
              message: "confirm with your passkey",
              options: JSON.parse(details.value.optionsJson),
            },
          };
        default:
          throw new HttpError(403, DenyReason[details.value?.reason ?? DenyReason.UNSPECIFIED], details.value?.message ?? "denied");
      }
    },
  };

  async function beginRegistration(userId: string, username: string): Promise<{ options: unknown }> {
    const begin = await auth.beginRegistration({ userId, userName: username, displayName: username });
    return { options: JSON.parse(begin.optionsJson) };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", opts.origin).pathname;
    const route = routes[`${req.method} ${path}`];
    if (!route) {
      if (req.method === "GET" && (await sendStatic(res, opts.publicDir, path))) return;
      return sendJson(res, 404, { error: "NOT_FOUND", message: `no ${req.method} ${path}` });
    }
    if (req.method === "POST" && req.headers.origin !== opts.origin) {
      throw new HttpError(403, "ORIGIN_FORBIDDEN", "requests must come from this site's own page");
    }
    const body = req.method === "POST" ? await readJson(req) : {};
    const reply = await route({ req, body, session: await readSession(req) });
    sendJson(res, reply.status ?? 200, reply.body, reply.headers);
  }

  return (req, res) => void handle(req, res).catch((err: unknown) => sendError(res, err));
}

/** The operation a step-up authorises: its digest binds the user, the action and its payload. */
function deleteAllNotes(userId: string): MessageInitShape<typeof OperationSchema> {
  const payload = JSON.stringify({ action: "delete-all-notes", userId });
  return {
    name: "notes.delete_all",
    resource: `users/${userId}/notes`,
    payloadDigest: createHash("sha256").update(payload).digest(),
    displayText: "Delete all notes",
  };
}

/** What the page shows of a passkey. */
function passkeyView(c: Credential) {
  const iso = (t: Timestamp | undefined) => (t ? timestampDate(t).toISOString() : null);
  return {
    id: c.credentialId,
    name: c.name,
    transports: c.transports,
    userVerified: c.userVerified,
    backupEligible: c.backupEligible,
    createdAt: iso(c.createdAt),
    lastUsedAt: iso(c.lastUsedAt),
    revokedAt: iso(c.revokedAt),
  };
}

/** Listens on `host` at the port of `opts.origin` (http://localhost is a secure context). */
export async function startBff(opts: BffOptions, host: string): Promise<{ close(): Promise<void> }> {
  const server = createServer(createBff(opts));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(new URL(opts.origin).port), host, resolve);
  });
  return {
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
