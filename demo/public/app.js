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

// Conditional UI: when the page opens signed out, and after signing out, a passkey request waits
// in the username field's autofill. It is not restarted after a failure, so an authenticator that
// answers conditional requests without asking (a test's virtual one) cannot loop. It must end
// before any other WebAuthn call starts (one request at a time per page).
let autofill;

function startAutofill() {
  if (autofill) return;
  const controller = new AbortController();
  const done = (async () => {
    if (!(await PublicKeyCredential.isConditionalMediationAvailable?.())) return;
    const { options } = await api("/api/signin/begin", {});
    const credential = await navigator.credentials.get({
      mediation: "conditional",
      signal: controller.signal,
      publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options),
    });
    autofill = undefined;
    await run(() => finishSignIn(credential));
  })().catch((err) => {
    // Aborting may surface as AbortError or NotAllowedError; either way it was on purpose.
    if (!controller.signal.aborted) show("error", explain(err));
  });
  autofill = { controller, done };
}

async function stopAutofill() {
  const pending = autofill;
  autofill = undefined;
  pending?.controller.abort();
  await pending?.done;
}

/**
 * Runs one user action: ends the autofill request, reports failure, then redraws the page.
 * body[data-busy] is set meanwhile, so anyone watching (a test) knows when the page is settled.
 */
let busy = 0;
async function run(action) {
  document.body.dataset.busy = String(++busy);
  try {
    await stopAutofill();
    await action();
  } catch (err) {
    show("error", explain(err));
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
  return api("/api/register/finish", { credential: credential.toJSON(), name });
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
  $("who").textContent = session.username;
  $("session-facts").textContent =
    `Signed in at ${new Date(session.authTime * 1000).toLocaleTimeString()} · ` +
    `acr ${session.acr} · amr ${session.amr.join(" ")}`;
  const { passkeys } = await api("/api/passkeys");
  $("passkeys").replaceChildren(...passkeys.map(passkeyRow));
}

function passkeyRow(passkey) {
  const cells = [
    passkey.name || "(unnamed)",
    passkey.transports.join(", "),
    new Date(passkey.createdAt).toLocaleString(),
    passkey.lastUsedAt ? new Date(passkey.lastUsedAt).toLocaleString() : "never",
    passkey.revokedAt ? "revoked" : "active",
  ];
  const row = document.createElement("tr");
  row.dataset.name = passkey.name;
  for (const text of cells) row.insertCell().textContent = text;
  const revoke = document.createElement("button");
  revoke.className = "danger small";
  revoke.textContent = "Revoke";
  revoke.setAttribute("aria-label", `Revoke ${passkey.name}`);
  revoke.disabled = passkey.revokedAt !== null;
  revoke.addEventListener("click", () =>
    run(async () => {
      await api("/api/passkeys/revoke", { credentialId: passkey.id });
      show("ok", `Revoked “${passkey.name}”: it can no longer sign in.`);
    }),
  );
  row.insertCell().append(revoke);
  return row;
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

onSubmit("add-form", async (form) => {
  const { passkey } = await register("/api/passkeys/begin", {}, form.get("name"));
  show("ok", `Added the passkey “${passkey.name}”.`);
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
