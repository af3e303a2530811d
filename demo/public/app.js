// The demo page: WebAuthn runs in the browser with its own JSON helpers
// (parse*OptionsFromJSON, credential.toJSON()); everything else goes through the BFF's JSON API.

const $ = (id) => document.getElementById(id);

class ApiError extends Error {
  constructor(body) {
    super(body.message);
    this.code = body.error;
    this.body = body;
  }
}

async function api(path, body) {
  const init =
    body === undefined
      ? {}
      : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
  const res = await fetch(path, init);
  const data = await res.json();
  if (!res.ok) throw new ApiError(data);
  return data;
}

function show(kind, text) {
  $("status").dataset.kind = kind;
  $("status").textContent = text;
}

function explain(err) {
  if (err instanceof ApiError) return `Refused: ${err.code} (${err.message})`;
  if (err instanceof DOMException) return `The browser refused: ${err.name} (${err.message})`;
  return `Something went wrong: ${err}`;
}

// One WebAuthn request may wait in the background: the conditional sign-in behind the username
// field's autofill (when the page opens signed out, and after signing out), or the conditional
// create that offers a passkey right after a one-time-code sign-in. Neither is restarted after a
// failure, so an authenticator that answers conditional requests without asking (a test's virtual
// one) cannot loop. It must end before any other WebAuthn call starts (one request at a time).
let background;

function startBackground(request) {
  if (background) return;
  const controller = new AbortController();
  const done = request(controller.signal).catch((err) => {
    // Aborting may surface as AbortError or NotAllowedError; either way it was on purpose.
    if (!controller.signal.aborted) show("error", explain(err));
  });
  background = { controller, done };
}

async function stopBackground() {
  const pending = background;
  background = undefined;
  pending?.controller.abort();
  await pending?.done;
}

function startAutofill() {
  startBackground(async (signal) => {
    if (!(await PublicKeyCredential.isConditionalMediationAvailable?.())) return;
    const { options } = await api("/api/signin/begin", {});
    const credential = await navigator.credentials.get({
      mediation: "conditional",
      signal,
      publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options),
    });
    background = undefined;
    await run(() => finishSignIn(credential));
  });
}

// Automatic passkey upgrade: a user who just signed in another way (here a one-time code) gets a
// passkey without a dialog, where the browser can (its password manager decides; it may never
// answer). dynauthn's ceremony is begun as conditional, so its finish accepts the attestation
// without user presence that browsers send for it. Elsewhere the "Add a passkey" form is the way.
async function startUpgrade() {
  const capabilities = await PublicKeyCredential.getClientCapabilities?.();
  if (!capabilities?.conditionalCreate) return false;
  startBackground(async (signal) => {
    const { options } = await api("/api/passkeys/begin", { conditional: true });
    const credential = await navigator.credentials.create({
      mediation: "conditional",
      signal,
      publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options),
    });
    background = undefined;
    await run(async () => {
      const { passkey, signal: accepted } = await api("/api/register/finish", {
        credential: credential.toJSON(),
        name: "Created automatically",
      });
      await sendSignal(accepted);
      show("ok", `Your browser created the passkey “${passkey.name}” for you.`);
    });
  });
  return true;
}

// The Signal API: the BFF hands over what dynauthn said the browser should know (which passkeys
// still work, the user's current names, a passkey the site does not know), and the passkey
// provider hides or updates what it shows. Browsers without it skip the call.
async function sendSignal(signal) {
  if (!signal) return;
  const options = JSON.parse(signal.optionsJson);
  const method = PublicKeyCredential[signal.method];
  try {
    await method?.call(PublicKeyCredential, options);
    note(`${signal.method}(${describeSignal(options)})${method ? "" : " — not supported by this browser"}`);
  } catch (err) {
    note(`${signal.method} failed: ${err.name}`);
  }
}

function describeSignal(options) {
  if (options.allAcceptedCredentialIds) return `${options.allAcceptedCredentialIds.length} accepted`;
  if (options.credentialId) return `credential ${options.credentialId.slice(0, 8)}…`;
  return `“${options.name}”, “${options.displayName}”`;
}

/** The last few signals, newest first, so the page shows what it told the browser. */
function note(text) {
  const item = document.createElement("li");
  item.textContent = text;
  $("signals").prepend(item);
  while ($("signals").children.length > 5) $("signals").lastChild.remove();
}

/**
 * Runs one user action: ends the background request, reports failure (and passes on the signal
 * a refusal carries), then redraws the page.
 * body[data-busy] is set meanwhile, so anyone watching (a test) knows when the page is settled.
 */
let busy = 0;
async function run(action) {
  document.body.dataset.busy = String(++busy);
  try {
    await stopBackground();
    await action();
  } catch (err) {
    show("error", explain(err));
    await sendSignal(err.body?.signal);
  }
  try {
    await render();
  } finally {
    if (--busy === 0) delete document.body.dataset.busy;
    else document.body.dataset.busy = String(busy);
  }
}

async function register(path, body, name) {
  const { options } = await api(path, body);
  const credential = await navigator.credentials.create({
    publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options),
  });
  const finished = await api("/api/register/finish", { credential: credential.toJSON(), name });
  await sendSignal(finished.signal);
  return finished;
}

async function signIn(body) {
  const { options } = await api("/api/signin/begin", body);
  const credential = await navigator.credentials.get({
    publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options),
  });
  await finishSignIn(credential);
}

async function finishSignIn(credential) {
  const { username } = await api("/api/signin/finish", { credential: credential.toJSON() });
  show("ok", `Signed in as ${username}.`);
}

async function render() {
  const session = await api("/api/session");
  $("signed-in").hidden = !session.signedIn;
  $("signed-out").hidden = session.signedIn;
  document.body.dataset.state = session.signedIn ? "signed-in" : "signed-out";
  if (!session.signedIn) return;
  $("who").textContent = session.displayName || session.username;
  $("new-name").placeholder = session.username;
  $("new-display-name").placeholder = session.displayName;
  $("session-facts").textContent =
    `Signed in as ${session.username} at ${new Date(session.authTime * 1000).toLocaleTimeString()} · ` +
    `acr ${session.acr} · amr ${session.amr.join(" ")}`;
  const { passkeys, signal } = await api("/api/passkeys");
  $("passkeys").replaceChildren(...passkeys.map(passkeyRow));
  await sendSignal(signal);
}

function passkeyRow(passkey) {
  const cells = [
    passkey.name || "(unnamed)",
    passkey.transports.join(", "),
    features(passkey),
    new Date(passkey.createdAt).toLocaleString(),
    passkey.lastUsedAt ? new Date(passkey.lastUsedAt).toLocaleString() : "never",
    passkey.revokedAt ? "revoked" : "active",
  ];
  const row = document.createElement("tr");
  row.dataset.name = passkey.name;
  row.insertCell().append(provider(passkey.provider));
  for (const text of cells) row.insertCell().textContent = text;
  const revoke = document.createElement("button");
  revoke.className = "danger small";
  revoke.textContent = "Revoke";
  revoke.setAttribute("aria-label", `Revoke ${passkey.name}`);
  revoke.disabled = passkey.revokedAt !== null;
  revoke.addEventListener("click", () =>
    run(async () => {
      const { signal } = await api("/api/passkeys/revoke", { credentialId: passkey.id });
      show("ok", `Revoked “${passkey.name}”: it can no longer sign in.`);
      await sendSignal(signal);
    }),
  );
  row.insertCell().append(revoke);
  return row;
}

/** The provider's name and icon; the icon is a data: URI, shown only as an image. */
function provider({ name, iconLight, iconDark }) {
  const cell = document.createElement("span");
  cell.className = "provider";
  const icon = matchMedia("(prefers-color-scheme: dark)").matches ? iconDark || iconLight : iconLight || iconDark;
  if (icon) {
    const img = document.createElement("img");
    img.src = icon;
    img.alt = "";
    img.width = img.height = 20;
    cell.append(img);
  }
  cell.append(name || "unknown provider");
  return cell;
}

/** What the browser reported at registration (extensions) and how the passkey was made. */
function features(passkey) {
  const facts = [];
  if (passkey.discoverable !== null) facts.push(passkey.discoverable ? "discoverable" : "not discoverable");
  if (passkey.prfEnabled) facts.push("PRF");
  if (passkey.largeBlobSupported) facts.push("large blob");
  if (passkey.createdConditionally) facts.push("created automatically");
  return facts.join(" · ") || "—";
}

function onSubmit(id, action) {
  $(id).addEventListener("submit", (event) => {
    event.preventDefault();
    void run(() => action(new FormData(event.target)));
  });
}

onSubmit("signup-form", async (form) => {
  const username = form.get("username");
  const { passkey } = await register("/api/signup/begin", { username }, form.get("name"));
  show("ok", `Account ${username} created with the passkey “${passkey.name}”. Sign in with it now.`);
});

onSubmit("signin-form", (form) =>
  signIn({ username: form.get("username"), requireUserVerification: $("require-uv").checked }),
);

onSubmit("add-passkey", async (form) => {
  const { passkey } = await register("/api/passkeys/begin", { hint: form.get("hint") }, form.get("name"));
  show("ok", `Added the passkey “${passkey.name}”.`);
});

onSubmit("code-send-form", async (form) => {
  await api("/api/code/send", { username: form.get("username") });
  $("code-signin-form").hidden = false;
  show("info", "We sent you a code (in this demo: to the server's log). Enter it below.");
});

onSubmit("code-signin-form", async (form) => {
  const username = $("code-username").value;
  await api("/api/code/signin", { username, code: form.get("code") });
  $("code-signin-form").hidden = true;
  $("code").value = "";
  const offered = await startUpgrade();
  show(
    "ok",
    `Signed in as ${username} with a one-time code. ` +
      (offered ? "Your browser may now offer to create a passkey for you." : "Add a passkey below to sign in faster next time."),
  );
});

onSubmit("name-form", async (form) => {
  const { username, displayName, signal } = await api("/api/account/name", {
    name: form.get("name"),
    displayName: form.get("displayName"),
  });
  show("ok", `You are now ${displayName} (${username}).`);
  await sendSignal(signal);
});

$("usernameless").addEventListener("click", () =>
  run(() => signIn({ requireUserVerification: $("require-uv").checked })),
);

$("signout").addEventListener("click", () =>
  run(async () => {
    await api("/api/signout", {});
    show("info", "Signed out.");
    startAutofill();
  }),
);

$("delete-account").addEventListener("click", () =>
  run(async () => {
    const { signal } = await api("/api/account/delete", {});
    show("info", "Your account and its passkeys are gone.");
    await sendSignal(signal);
    startAutofill();
  }),
);

// Step-up: the BFF answers 401 STEP_UP_REQUIRED with a challenge bound to this action; the
// passkey's answer to it, sent back with the same request, authorises exactly this action once.
$("sensitive").addEventListener("click", () =>
  run(async () => {
    try {
      await api("/api/notes/delete-all", {});
    } catch (err) {
      if (err.code !== "STEP_UP_REQUIRED") throw err;
      show("info", "Confirm with your passkey to delete all notes…");
      const credential = await navigator.credentials.get({
        publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(err.body.options),
      });
      await api("/api/notes/delete-all", { credential: credential.toJSON() });
    }
    show("ok", "All notes deleted, confirmed with your passkey just now.");
  }),
);

$("origin").textContent = location.origin;
show("info", "Welcome. Sign up or sign in with a passkey.");
await run(async () => {}); // the first render
if (document.body.dataset.state === "signed-out") startAutofill();
