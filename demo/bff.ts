import { createHash } from "node:crypto";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import { AuthService, Hint, UserVerificationRequirement } from "../src/gen/authn/v1/auth_service_pb.js";
import { DenyReason, type OperationSchema } from "../src/gen/authn/v1/step_up_pb.js";
import { accountRoutes } from "./account-routes.js";
import { field, HttpError, readJson, sendDocument, sendError, sendJson, sendStatic } from "./http.js";
import { passkeyView, signalView } from "./views.js";
import { signedIn, type Routes } from "./route.js";
import { createSessions } from "./session.js";
import { STEP_UP_PROFILE } from "./tenant.js";
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
  /** Where the one-time codes go: the demo's log stands in for the mail a product would send. */
  readonly log: (line: string) => void;
  /** The product's users, shared by the BFFs of its several sites (related origins); else its own. */
  readonly users?: UserDirectory;
}

/** Extensions every registration asks for; the passkey list shows what the browser reported. */
const REGISTRATION_EXTENSIONS = JSON.stringify({ credProps: true, prf: {}, largeBlob: { support: "preferred" } });

/** The kinds of authenticator the "add a passkey" form offers first (WebAuthn hints). */
const HINTS: Record<string, Hint> = {
  "client-device": Hint.CLIENT_DEVICE,
  "security-key": Hint.SECURITY_KEY,
  hybrid: Hint.HYBRID,
};

export function createBff(opts: BffOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { auth } = opts;
  const users = opts.users ?? new UserDirectory();
  const sessions = createSessions(opts.jwksUrl);
  const routes: Routes = {
    "GET /api/session": async ({ session }) => ({
      body: session
        ? {
            signedIn: true,
            username: users.nameOf(session.userId) ?? session.userId,
            displayName: users.namesOf(session.userId)?.displayName ?? "",
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
      return { body: await beginRegistration(userId, {}) };
    },

    // A signed-in user adds a passkey: from the form (with a hint of the kind), or by conditional
    // create right after a one-time-code sign-in (automatic passkey upgrade).
    "POST /api/passkeys/begin": async (call) => {
      const { userId } = signedIn(call);
      const hint = typeof call.body.hint === "string" ? HINTS[call.body.hint] : undefined;
      return { body: await beginRegistration(userId, { hint, conditional: call.body.conditional === true }) };
    },

    "POST /api/register/finish": async ({ body }) => {
      const { credential, signal } = await auth.finishRegistration({
        credentialJson: JSON.stringify(body.credential),
        credentialName: typeof body.name === "string" ? body.name.trim() : "",
      });
      users.confirm(credential!.userId);
      return { body: { passkey: passkeyView(credential!), signal: signalView(signal) } };
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

    // A refusal of an assertion dynauthn has no credential for carries signalUnknownCredential
    // (sendError passes it on), so the browser's passkey provider can hide the dead passkey.
    "POST /api/signin/finish": async ({ req, body }) => {
      const done = await auth.finishAuthentication({
        credentialJson: JSON.stringify(body.credential),
        client: { ip: req.socket.remoteAddress ?? "", userAgent: req.headers["user-agent"] ?? "" },
      });
      return {
        body: { username: users.nameOf(done.userId) ?? done.userId, userVerified: done.userVerified },
        headers: { "set-cookie": sessions.passkeyCookies(done.sessionToken, timestampDate(done.expiresAt!)) },
      };
    },

    "POST /api/signout": async () => ({ body: { signedIn: false }, headers: { "set-cookie": sessions.cleared() } }),

    "GET /api/passkeys": async (call) => {
      const { credentials, signal } = await auth.listCredentials({ userId: signedIn(call).userId });
      return { body: { passkeys: credentials.map(passkeyView), signal: signalView(signal) } };
    },

    "POST /api/passkeys/revoke": async (call) => {
      const { credential, signal } = await auth.revokeCredential({
        userId: signedIn(call).userId,
        credentialId: field(call.body, "credentialId"),
        reason: "revoked by the user on the passkeys page",
      });
      return { body: { passkey: passkeyView(credential!), signal: signalView(signal) } };
    },

    ...accountRoutes({ auth, users, sessions, log: opts.log }),

    // The sensitive action: dynauthn's VerifyOperation decides whether this session may do it
    // now. It is single-use and needs user verification, so the session alone never suffices:
    // the first call gets a challenge bound to this user and this operation (under the tenant's
    // step-up profile: user verification required, this device's authenticator first), the second
    // brings the passkey's answer to it.
    "POST /api/notes/delete-all": async (call) => {
      const session = signedIn(call);
      if (session.token === undefined) {
        throw new HttpError(403, "PASSKEY_SESSION_REQUIRED", "sign in with a passkey for this");
      }
      const verdict = await auth.verifyOperation({
        sessionToken: session.token,
        operation: deleteAllNotes(session.userId),
        requirement: { requireUserVerification: true, singleUse: true },
        profile: STEP_UP_PROFILE,
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

  // The RP ID's public documents, as dynauthn makes them for this tenant (a front could proxy
  // dynauthn's own HTTP routes instead; the RPCs keep the browser away from dynauthn).
  const documents: Record<string, () => Promise<string>> = {
    "/.well-known/webauthn": async () => (await auth.getRelatedOrigins({})).documentJson,
    "/.well-known/passkey-endpoints": async () => (await auth.getPasskeyEndpoints({})).documentJson,
  };

  async function beginRegistration(
    userId: string,
    how: { readonly hint?: Hint | undefined; readonly conditional?: boolean },
  ): Promise<{ options: unknown }> {
    const names = users.namesOf(userId);
    const begin = await auth.beginRegistration({
      userId,
      userName: names?.name ?? userId,
      displayName: names?.displayName ?? "",
      preferences: { hints: how.hint === undefined ? [] : [how.hint] },
      conditional: how.conditional ?? false,
      extensionsJson: REGISTRATION_EXTENSIONS,
    });
    return { options: JSON.parse(begin.optionsJson) };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", opts.origin).pathname;
    const document = req.method === "GET" ? documents[path] : undefined;
    if (document) return sendDocument(res, await document());
    const route = routes[`${req.method} ${path}`];
    if (!route) {
      if (req.method === "GET" && (await sendStatic(res, opts.publicDir, path))) return;
      return sendJson(res, 404, { error: "NOT_FOUND", message: `no ${req.method} ${path}` });
    }
    if (req.method === "POST" && req.headers.origin !== opts.origin) {
      throw new HttpError(403, "ORIGIN_FORBIDDEN", "requests must come from this site's own page");
    }
    const body = req.method === "POST" ? await readJson(req) : {};
    const reply = await route({ req, body, session: await sessions.read(req) });
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

/** A running BFF: where it listens, and how to stop it. */
export interface StartedBff {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Listens on `host` at the port of `opts.origin` (http://localhost is a secure context), or with
 * `tls` over https on `port` (an https origin names the port browsers use, which a test maps to
 * this one; 0 picks a free port).
 */
export async function startBff(
  opts: BffOptions,
  host: string,
  tls?: { readonly key: Buffer; readonly cert: Buffer; readonly port: number },
): Promise<StartedBff> {
  const handler = createBff(opts);
  const server = tls ? createHttpsServer({ key: tls.key, cert: tls.cert }, handler) : createHttpServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(tls ? tls.port : Number(new URL(opts.origin).port), host, resolve);
  });
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
