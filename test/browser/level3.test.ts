import { generateKeyPairSync, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { verifyMdsBlob } from "../../src/attestation/mds-blob.js";
import type { MdsCatalog } from "../../src/attestation/mds-catalog.js";
import { mdsEntry, mdsSigningPki, signBlob, withIcon } from "../support/attestation-pki.js";
import { PLATFORM_AUTHENTICATOR, SECURITY_KEY, useDemoSuite, type DemoPage } from "../support/browser.js";

/**
 * The AAGUID of Chromium's virtual platform authenticator, which it keeps under attestation
 * "none" (a virtual USB key's is zeroed, as for every roaming authenticator).
 */
const VIRTUAL_PLATFORM_AAGUID = "01020304-0506-0708-0102-030405060708";
const PROVIDER_NAME = "Chromium virtual authenticator";
const PROVIDER_ICON = `data:image/svg+xml;base64,${Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 20 20"><circle cx="10" cy="10" r="9" fill="#2f5bea"/></svg>',
).toString("base64")}`;

/** A FIDO MDS catalog (test-signed BLOB) that names the virtual platform authenticator, with an icon. */
async function virtualAuthenticatorMds(): Promise<MdsCatalog> {
  const pki = await mdsSigningPki();
  const entries = [withIcon(mdsEntry(VIRTUAL_PLATFORM_AAGUID, PROVIDER_NAME, []), PROVIDER_ICON)];
  return verifyMdsBlob(await signBlob({ no: 1, nextUpdate: "2060-01-01", entries }, pki.signer, pki.chain), [pki.root.cert], new Date());
}

/**
 * WebAuthn Level 3 in the demo, driven in Chromium: signals the page passes on (observed in the
 * virtual authenticators, which Chromium's Signal API updates), the one-time-code sign-in and its
 * conditional create, hints and the step-up profile, extensions in the passkey list.
 */
describe("demo in Chromium: WebAuthn Level 3", () => {
  const suite = useDemoSuite({ mds: virtualAuthenticatorMds });

  /** A user signed up and signed in with the platform passkey. */
  async function signedIn(username: string) {
    const demo = await suite.open();
    const platform = await demo.addAuthenticator(PLATFORM_AUTHENTICATOR);
    await demo.signUp(username);
    await demo.signIn(username);
    return { demo, platform };
  }

  /**
   * Adds a USB security key through the form, the platform authenticator keeping silent; returns
   * the key and the BFF's answer to the begin.
   */
  async function addSecurityKey(demo: DemoPage, platform: string) {
    await demo.setPresence(platform, false);
    const key = await demo.addAuthenticator(SECURITY_KEY);
    const begun = await answerTo(demo, "/api/passkeys/begin", () => demo.page.getByRole("button", { name: "Add a passkey" }).click());
    await demo.expectStatus("Added the passkey “Security key”.");
    return { key, begun };
  }

  /** The JSON the BFF answered to the request `action` makes to `path`. */
  async function answerTo(demo: DemoPage, path: string, action: () => Promise<void>): Promise<any> {
    const answer = demo.page.waitForResponse((res) => new URL(res.url()).pathname === path);
    await action();
    return (await answer).json();
  }

  it("extensions, hints, provider: the passkey list shows what each authenticator reported (credProps, PRF, largeBlob) and who made it", async () => {
    const { demo, platform } = await signedIn("ada");
    const { begun } = await addSecurityKey(demo, platform);
    // The form's kind became a hint; the extensions are asked for at every registration.
    expect(begun.options.hints).toEqual(["security-key"]);
    expect(begun.options.extensions).toMatchObject({ credProps: true, prf: {}, largeBlob: { support: "preferred" } });

    expect(await demo.passkeyRows()).toEqual([
      expect.objectContaining({ provider: PROVIDER_NAME, name: "This device", features: "discoverable · PRF · large blob" }),
      expect.objectContaining({ provider: "unknown provider", name: "Security key", features: "discoverable" }),
    ]);
    // The icon is an image element whose source is dynauthn's data: URI; the key has none.
    const icons = await demo.page.locator("#passkeys tr").evaluateAll((rows) => rows.map((row) => row.querySelector("img")?.src ?? null));
    expect(icons).toEqual([PROVIDER_ICON, null]);
    // ... and it decoded: the page's CSP lets data: images through.
    const decoded = () =>
      demo.page.locator("#passkeys img").evaluate((img) => {
        const image = img as unknown as { complete: boolean; naturalWidth: number };
        return image.complete && image.naturalWidth > 0;
      });
    await expect.poll(decoded, { timeout: 5000 }).toBe(true);
    await demo.screenshot("08-level3-passkey-list", { fullPage: true });
    await demo.close();
  });

  it("hints and profile on the step-up page: VerifyOperation's challenge asks for this device and user verification", async () => {
    const { demo } = await signedIn("ben");
    const challenge = await answerTo(demo, "/api/notes/delete-all", () =>
      demo.page.getByRole("button", { name: "Delete all notes" }).click(),
    );
    await demo.expectStatus("All notes deleted, confirmed with your passkey just now.");
    // The tenant's "step-up" profile (demo/tenant.ts) shapes the options the page got.
    expect(challenge.error).toBe("STEP_UP_REQUIRED");
    expect(challenge.options).toMatchObject({ hints: ["client-device"], userVerification: "required", timeout: 120_000 });
    await demo.close();
  });

  it("revoke: signalAllAcceptedCredentials removes the revoked passkey from the browser's authenticator", async () => {
    const { demo, platform } = await signedIn("cleo");
    const { key } = await addSecurityKey(demo, platform);
    expect(await demo.credentials(key)).toHaveLength(1);

    await demo.page.getByRole("button", { name: "Revoke Security key" }).click();
    await demo.expectStatus("Revoked “Security key”");
    expect(await demo.credentials(key)).toEqual([]);
    expect(await demo.credentials(platform)).toHaveLength(1);
    expect((await demo.signalsNoted())[0]).toBe("signalAllAcceptedCredentials(1 accepted)");
    await demo.close();
  });

  it("change my name: UpdateUser's signalCurrentUserDetails renames the passkey in the authenticator", async () => {
    const { demo, platform } = await signedIn("dora");
    expect(await demo.credentials(platform)).toEqual([expect.objectContaining({ userName: "dora", userDisplayName: "dora" })]);

    await demo.page.getByLabel("Account name").fill("dora.m");
    await demo.page.getByLabel("Display name").fill("Dora Maar");
    await demo.page.getByRole("button", { name: "Change my name" }).click();
    await demo.expectStatus("You are now Dora Maar (dora.m).");
    expect(await demo.signalsNoted()).toContain("signalCurrentUserDetails(“dora.m”, “Dora Maar”)");
    expect(await demo.credentials(platform)).toEqual([expect.objectContaining({ userName: "dora.m", userDisplayName: "Dora Maar" })]);
    await demo.screenshot("09-level3-renamed");

    // The product's directory moved too: the new name signs in; the page greets the display name.
    await demo.signOut();
    await demo.submitSignIn("dora.m");
    await demo.expectStatus("Signed in as dora.m.");
    expect(await demo.page.locator("#who").textContent()).toBe("Dora Maar");
    await demo.close();
  });

  it("delete my account: DeleteUser's signal (nothing accepted) removes every passkey of the user", async () => {
    const { demo, platform } = await signedIn("hana");
    const { key } = await addSecurityKey(demo, platform);

    await demo.page.getByRole("button", { name: "Delete my account" }).click();
    await demo.expectStatus("Your account and its passkeys are gone.");
    expect(await demo.page.locator("body").getAttribute("data-state")).toBe("signed-out");
    expect((await demo.signalsNoted())[0]).toBe("signalAllAcceptedCredentials(0 accepted)");
    expect(await demo.credentials(platform)).toEqual([]);
    expect(await demo.credentials(key)).toEqual([]);
    // The name is free again.
    await demo.signUp("hana");
    await demo.close();
  });

  it("unknown credential: the refusal's signalUnknownCredential removes a passkey the site does not know", async () => {
    const demo = await suite.open();
    const platform = await demo.addAuthenticator(PLATFORM_AUTHENTICATOR);
    // A passkey for this RP ID that dynauthn never registered (or deleted): the browser offers it.
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const credentialId = randomBytes(32);
    await demo.addCredential(platform, {
      credentialId: credentialId.toString("base64"),
      isResidentCredential: true,
      rpId: "localhost",
      privateKey: privateKey.export({ type: "pkcs8", format: "der" }).toString("base64"),
      userHandle: randomBytes(32).toString("base64"),
      signCount: 0,
    });

    await demo.page.getByRole("button", { name: "Sign in with a passkey (no username)" }).click();
    await demo.expectStatus("Refused: CREDENTIAL_UNKNOWN");
    expect((await demo.signalsNoted())[0]).toBe(`signalUnknownCredential(credential ${credentialId.toString("base64url").slice(0, 8)}…)`);
    expect(await demo.credentials(platform)).toEqual([]);
    await demo.close();
  });

  it("one-time code: single use, wrong codes refused; a code session cannot step up", async () => {
    const demo = await suite.open();
    await demo.page.getByLabel("Your username").fill("emil");
    await demo.page.getByRole("button", { name: "Send me a code" }).click();
    await demo.expectStatus("We sent you a code");
    const code = suite.sites.log.codeFor("emil");
    const wrong = code === "000000" ? "000001" : "000000";

    await demo.page.getByLabel("One-time code").fill(wrong);
    await demo.page.getByRole("button", { name: "Sign in with the code" }).click();
    await demo.expectStatus("Refused: CODE_INVALID");
    await demo.page.getByLabel("One-time code").fill(code);
    await demo.page.getByRole("button", { name: "Sign in with the code" }).click();
    await demo.expectStatus("Signed in as emil with a one-time code.");
    expect(await demo.page.locator("#session-facts").textContent()).toContain("acr code · amr otp");

    await demo.page.getByRole("button", { name: "Delete all notes" }).click();
    await demo.expectStatus("Refused: PASSKEY_SESSION_REQUIRED");

    // The code was used up: replaying it (as an eavesdropper would) is refused.
    const replay = await demo.page.evaluate(
      async (body) =>
        (await fetch("/api/code/signin", { method: "POST", headers: { "content-type": "application/json" }, body })).status,
      JSON.stringify({ username: "emil", code }),
    );
    expect(replay).toBe(401);
    await demo.close();
  });

  it("conditional create after a code sign-in: begun as conditional; Chromium leaves it to its password manager, the form adds the passkey", async () => {
    const demo = await suite.open();
    const platform = await demo.addAuthenticator(PLATFORM_AUTHENTICATOR);
    await demo.page.getByLabel("Your username").fill("fay");
    await demo.page.getByRole("button", { name: "Send me a code" }).click();
    await demo.expectStatus("We sent you a code");
    await demo.page.getByLabel("One-time code").fill(suite.sites.log.codeFor("fay"));
    const begun = await answerTo(demo, "/api/passkeys/begin", () =>
      demo.page.getByRole("button", { name: "Sign in with the code" }).click(),
    );
    await demo.expectStatus("Signed in as fay with a one-time code. Your browser may now offer to create a passkey for you.");
    expect(demo.sent.find((s) => s.path === "/api/passkeys/begin")?.body).toEqual({ conditional: true });
    expect(begun.options).toMatchObject({ user: { name: "fay" }, challenge: expect.any(String) });

    // Chromium's conditional create goes to Google Password Manager only, after it filled a
    // password for this user: the virtual authenticator is never asked and the request waits.
    // A virtual authenticator that were asked answers within ~100 ms; a second shows it was not.
    await demo.page.waitForTimeout(1000);
    expect(await demo.credentials(platform)).toEqual([]);
    expect(await demo.status()).toContain("Your browser may now offer to create a passkey for you.");
    expect(demo.sent.filter((s) => s.path === "/api/register/finish")).toEqual([]);

    // The fallback: the form ends the waiting request and registers with a dialog.
    await demo.page.getByLabel("on", { exact: true }).selectOption("client-device");
    await demo.page.getByLabel("Add a passkey named").fill("This laptop");
    await demo.page.getByRole("button", { name: "Add a passkey" }).click();
    await demo.expectStatus("Added the passkey “This laptop”.");
    expect(await demo.passkeyRows()).toEqual([expect.objectContaining({ name: "This laptop", features: "discoverable · PRF · large blob" })]);
    expect(await demo.credentials(platform)).toHaveLength(1);
    await demo.screenshot("10-level3-code-then-passkey");
    await demo.close();
  });

  it("a browser without conditional create: the code sign-in offers the form only", async () => {
    const demo = await suite.open();
    await demo.page.addInitScript("PublicKeyCredential.getClientCapabilities = async () => ({ conditionalCreate: false });");
    await demo.page.reload();
    await demo.page.getByLabel("Your username").fill("gus");
    await demo.page.getByRole("button", { name: "Send me a code" }).click();
    await demo.expectStatus("We sent you a code");
    await demo.page.getByLabel("One-time code").fill(suite.sites.log.codeFor("gus"));
    await demo.page.getByRole("button", { name: "Sign in with the code" }).click();
    await demo.expectStatus("Signed in as gus with a one-time code. Add a passkey below");
    expect(demo.sent.filter((s) => s.path === "/api/passkeys/begin")).toEqual([]);
    await demo.close();
  });
});
