import { describe, expect, it } from "vitest";
import {
  PLATFORM_AUTHENTICATOR,
  PRESENCE_ONLY_AUTHENTICATOR,
  useDemoSuite,
  type DemoPage,
} from "../support/browser.js";

/** What the demo and dynauthn refuse in a real browser, and the step-up that lets a user through. */
describe("demo in Chromium: refusals and step-up", () => {
  const suite = useDemoSuite();

  /** The origin the browser wrote into the clientDataJSON of what the page last sent to `path`. */
  function clientDataOrigin(demo: DemoPage, path: string): string {
    const sent = demo.sent.findLast((s) => s.path === path)?.body as { credential: { response: { clientDataJSON: string } } };
    return JSON.parse(Buffer.from(sent.credential.response.clientDataJSON, "base64url").toString()).origin;
  }

  it("a copy of the page on a foreign origin is refused: ORIGIN_MISMATCH for sign-in and sign-up", async () => {
    // The same tab and authenticator: a passkey made on the real site, then a look-alike site on
    // another localhost port (same RP ID, so the browser lets it ask) that relays to dynauthn.
    const demo = await suite.open();
    await demo.addAuthenticator(PLATFORM_AUTHENTICATOR);
    await demo.signUp("gus");
    await demo.goto(suite.sites.foreign);

    await demo.page.getByRole("button", { name: "Sign in with a passkey (no username)" }).click();
    await demo.expectStatus("Refused: ORIGIN_MISMATCH");
    await demo.screenshot("05-foreign-origin-refused");
    expect(clientDataOrigin(demo, "/api/signin/finish")).toBe(suite.sites.foreign);

    await demo.page.getByLabel("New username").fill("gus-on-foreign");
    await demo.page.getByRole("button", { name: "Sign up with a passkey" }).click();
    await demo.expectStatus("Refused: ORIGIN_MISMATCH");
    expect(clientDataOrigin(demo, "/api/register/finish")).toBe(suite.sites.foreign);
    await demo.close();
  });

  it("UV required, authenticator without UV: Chromium refuses; a client that drops the demand meets dynauthn's refusal", async () => {
    const demo = await suite.open();
    await demo.addAuthenticator(PRESENCE_ONLY_AUTHENTICATOR);
    await demo.signUp("hana"); // registration prefers UV, so a presence-only key may register

    // Honest client: userVerification "required" and an authenticator that cannot verify the user:
    // Chromium refuses by itself and no assertion reaches the BFF.
    await demo.submitSignIn("hana", { requireUserVerification: true });
    await demo.expectStatus("The browser refused: NotAllowedError");
    expect(demo.sent.filter((s) => s.path === "/api/signin/finish")).toEqual([]);

    // A client that lowers the demand (here: the BFF's answer rewritten on its way to the page)
    // gets an assertion without the UV flag; dynauthn enforces REQUIRED at finish.
    await demo.page.route("**/api/signin/begin", async (route) => {
      const response = await route.fetch();
      const body = await response.json();
      await route.fulfill({ response, json: { options: { ...body.options, userVerification: "discouraged" } } });
    });
    await demo.submitSignIn("hana", { requireUserVerification: true });
    await demo.expectStatus("Refused: USER_VERIFICATION_REQUIRED");
    await demo.screenshot("06-uv-required-refused");
    await demo.close();
  });

  it("the sensitive action steps up: VerifyOperation asks for a passkey bound to it, then allows it", async () => {
    const demo = await suite.open();
    await demo.addAuthenticator(PLATFORM_AUTHENTICATOR);
    await demo.signUp("ines");
    await demo.signIn("ines");
    demo.sent.length = 0;

    await demo.page.getByRole("button", { name: "Delete all notes" }).click();
    await demo.expectStatus("All notes deleted, confirmed with your passkey just now.");
    await demo.screenshot("07-step-up-done");
    const calls = demo.sent.filter((s) => s.path === "/api/notes/delete-all").map((s) => s.body);
    expect(calls).toEqual([{}, { credential: expect.objectContaining({ type: "public-key" }) }]);
    await demo.close();
  });
});
