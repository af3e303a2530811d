import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { AuthService } from "../src/gen/authn/v1/auth_service_pb.js";
import { field, HttpError, nameField } from "./http.js";
import { OneTimeCodes } from "./one-time-codes.js";
import { signalView } from "./views.js";
import { signedIn, type Routes } from "./route.js";
import type { Sessions } from "./session.js";
import type { UserDirectory } from "./users.js";

/**
 * The account's own routes: the one-time-code sign-in (the demo's stand-in for a password, after
 * which the page tries conditional create), renaming the user and erasing the account, each with
 * the browser signal dynauthn gives for it.
 */
export function accountRoutes(deps: {
  readonly auth: Client<typeof AuthService>;
  readonly users: UserDirectory;
  readonly sessions: Sessions;
  readonly log: (line: string) => void;
}): Routes {
  const { auth, users, sessions } = deps;
  const codes = new OneTimeCodes();
  return {
    // The stand-in for a password: the code goes to the log. The answer is the same for every
    // name, so it says nothing about who has an account.
    "POST /api/code/send": async ({ body }) => {
      const username = nameField(body, "username");
      deps.log(`one-time code for ${username}: ${codes.issue(username)} (valid 5 minutes, once)`);
      return { body: { sent: true } };
    },

    "POST /api/code/signin": async ({ body }) => {
      const username = nameField(body, "username");
      if (!codes.redeem(username, field(body, "code"))) throw new HttpError(401, "CODE_INVALID", "wrong or expired code");
      const userId = users.idForCodeSignIn(username);
      return { body: { username }, headers: { "set-cookie": await sessions.codeCookies(userId) } };
    },

    // The user renames themself: dynauthn's record first (it checks the names and answers with
    // the signalCurrentUserDetails that lets the passkey provider show them), then the product's
    // directory. A user who never began a registration has no record there, and no passkey.
    "POST /api/account/name": async (call) => {
      const { userId } = signedIn(call);
      const name = nameField(call.body, "name");
      const displayName = typeof call.body.displayName === "string" && call.body.displayName.trim() ? call.body.displayName.trim() : name;
      const taken = () => new HttpError(409, "USERNAME_TAKEN", `${name} is taken`);
      if (!users.isFreeFor(userId, name)) throw taken();
      const updated = await auth.updateUser({ userId, userName: name, displayName }).catch((err: unknown) => {
        if (ConnectError.from(err).code === Code.NotFound) return undefined;
        throw err;
      });
      if (!users.rename(userId, name, displayName)) throw taken();
      return { body: { username: name, displayName, signal: signalView(updated?.signal) } };
    },

    // Erasure: dynauthn deletes the user's passkeys and record, and its signal (no accepted
    // credentials) lets the browser's provider hide every passkey the user had here.
    "POST /api/account/delete": async (call) => {
      const { userId } = signedIn(call);
      const { signal } = await auth.deleteUser({ userId });
      users.remove(userId);
      return { body: { signal: signalView(signal) }, headers: { "set-cookie": sessions.cleared() } };
    },

  };
}
