import { describe, expect, it } from "vitest";
import { PLATFORM_AUTHENTICATOR, SECURITY_KEY, useDemoSuite } from "../support/browser.js";

/**
 * The demo relying party in Chromium with CDP virtual authenticators: the browser's own
 * WebAuthn client builds every attestation and assertion; dynauthn verifies them. Each case has
 * its own tab, browser context (cookies) and authenticators.
 */
describe("demo in Chromium: passkeys", () => {
  const suite = useDemoSuite();

  /** A signed-up user's tab with its platform authenticator. */
  async function signedUp(username: string, opts: { conditionalUi?: boolean } = {}) {
    const demo = await suite.open(opts);
    const platform = await demo.addAuthenticator(PLATFORM_AUTHENTICATOR);
    await demo.signUp(username);
    return { demo, platform };
  }

  /**
   * A user signed in with the platform passkey who then adds a USB security key. Both
   * authenticators are left not answering, so the case decides which one signs next.
   */
  async function withSecurityKey(username: string) {
    const { demo, platform } = await signedUp(username);
    await demo.signIn(username);
    await demo.setPresence(platform, false);
    const key = await demo.addAuthenticator(SECURITY_KEY);
    await demo.page.getByRole("button", { name: "Add a passkey" }).click();
    await demo.expectStatus("Added the passkey “Security key”.");
    await demo.setPresence(key, false);
    return { demo, platform, key };
  }

  it("registers a passkey: a resident key whose user handle holds no user id or name", async () => {
    const { demo, platform } = await signedUp("ada");
    await demo.screenshot("01-signed-up");

    const [credential, ...others] = await demo.credentials(platform);
    expect(others).toEqual([]);
    expect(credential).toMatchObject({ isResidentCredential: true, rpId: "localhost" });
    const userHandle = Buffer.from(credential!.userHandle!, "base64");
    expect(userHandle).toHaveLength(32);
    expect(userHandle.toString("latin1")).not.toContain("ada");
    await demo.close();
  });

  it("signs in with a username: HttpOnly session cookie, passkey list, acr/amr of a device-bound key", async () => {
    const { demo } = await signedUp("ben");
    await demo.signIn("ben");
    await demo.screenshot("02-signed-in");

    expect(await demo.page.locator("#session-facts").textContent()).toContain("acr phrh · amr hwk user mfa");
    expect(await demo.passkeyRows()).toEqual([expect.objectContaining({ name: "This device", transports: "internal", used: true, status: "active" })]);
    const [cookie, ...others] = await demo.page.context().cookies();
    expect(others).toEqual([]);
    expect(cookie).toMatchObject({ name: "demo_session", httpOnly: true, sameSite: "Strict" });
    expect(await demo.page.evaluate("document.cookie")).toBe("");
    await demo.close();
  });

  it("usernameless, conditional UI: the autofill request of a freshly opened page signs in", async () => {
    const { demo } = await signedUp("cleo", { conditionalUi: true });
    demo.sent.length = 0;
    // Opening the page signed out starts navigator.credentials.get({ mediation: "conditional" });
    // Chromium's virtual environment answers it without the autofill pick a person would make.
    await demo.page.reload();
    await demo.expectSignedIn("cleo");
    expect(demo.sent.filter((s) => s.path === "/api/signin/begin").map((s) => s.body)).toEqual([{}]);
    await demo.close();
  });

  it("usernameless, modal: the passkey button signs in without a username", async () => {
    const { demo } = await signedUp("dora");
    demo.sent.length = 0;
    await demo.page.getByRole("button", { name: "Sign in with a passkey (no username)" }).click();
    await demo.expectSignedIn("dora");
    expect(demo.sent.find((s) => s.path === "/api/signin/begin")?.body).toEqual({ requireUserVerification: false });
    await demo.close();
  });

  it("a second authenticator, a USB security key, joins the same account and signs in", async () => {
    const { demo, platform, key } = await withSecurityKey("emil");
    expect(await demo.passkeyRows()).toEqual([
      expect.objectContaining({ name: "This device", transports: "internal", used: true, status: "active" }),
      expect.objectContaining({ name: "Security key", transports: "usb", used: false, status: "active" }),
    ]);
    expect(await demo.credentials(platform)).toHaveLength(1);
    expect(await demo.credentials(key)).toHaveLength(1);
    await demo.screenshot("03-two-passkeys");

    await demo.signOut();
    await demo.setPresence(key, true);
    await demo.signIn("emil");
    expect(await demo.passkeyRows()).toContainEqual(expect.objectContaining({ name: "Security key", transports: "usb", used: true, status: "active" }));
    // A security key with a PIN is device-bound too, and verified the user.
    expect(await demo.page.locator("#session-facts").textContent()).toContain("acr phrh · amr hwk user mfa");
    await demo.close();
  });

  it("a revoked passkey can no longer sign in, nor its session step up; the other passkey still signs in", async () => {
    const { demo, platform, key } = await withSecurityKey("fay");
    const [revokedKey] = await demo.credentials(platform);
    await demo.page.getByRole("button", { name: "Revoke This device" }).click();
    await demo.expectStatus("Revoked “This device”");
    expect(await demo.passkeyRows()).toContainEqual(expect.objectContaining({ name: "This device", transports: "internal", used: true, status: "revoked" }));
    // RevokeCredential's signalAllAcceptedCredentials, passed on by the page: Chromium removed
    // the revoked passkey from this browser's authenticator, and kept the security key's.
    expect(await demo.credentials(platform)).toEqual([]);
    expect(await demo.credentials(key)).toHaveLength(1);
    // The session was made by the revoked passkey: VerifyOperation (the sensitive action) refuses it.
    await demo.page.getByRole("button", { name: "Delete all notes" }).click();
    await demo.expectStatus("Refused: SESSION_REVOKED");

    // A browser that missed the signal (offline, another browser) still holds the key. Since
    // BeginAuthentication for "fay" no longer lists it in allowCredentials, it tries the
    // usernameless way: dynauthn refuses the assertion.
    await demo.signOut();
    await demo.addCredential(platform, revokedKey!);
    await demo.setPresence(platform, true);
    await demo.page.getByRole("button", { name: "Sign in with a passkey (no username)" }).click();
    await demo.expectStatus("Refused: CREDENTIAL_REVOKED");
    await demo.screenshot("04-revoked-passkey-refused");
    expect(await demo.page.locator("body").getAttribute("data-state")).toBe("signed-out");

    await demo.setPresence(platform, false);
    await demo.setPresence(key, true);
    await demo.signIn("fay");
    await demo.close();
  });
});
