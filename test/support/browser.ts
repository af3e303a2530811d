import { mkdir } from "node:fs/promises";
import { chromium, type Browser, type CDPSession, type Page } from "playwright-core";
import { afterAll, beforeAll, expect } from "vitest";
import type { MdsCatalog } from "../../src/attestation/mds-catalog.js";
import { CHROMIUM_ADVICE, chromiumExecutable } from "./chromium.js";
import { startDemoSites, type Sites } from "./demo-sites.js";

/** Flags that work on these machines (no sandbox for root, no GPU, no network chatter). */
const LAUNCH_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const SCREENSHOT_DIR = "test-results/screenshots";

/**
 * Headless Chromium; playwright gives each launch a fresh temporary user-data dir. A browser that
 * cannot start here fails with what to do about it.
 */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  const chromiumFile = await chromiumExecutable();
  try {
    return await chromium.launch({ executablePath: chromiumFile.path, args: [...LAUNCH_ARGS, ...extraArgs], headless: true });
  } catch (cause) {
    throw new Error(
      `Chromium from ${chromiumFile.source} (${chromiumFile.path}) did not start: the browser end-to-end suite cannot run. ` +
        CHROMIUM_ADVICE,
      { cause },
    );
  }
}

/** The CDP WebAuthn.VirtualAuthenticatorOptions this suite uses. */
export interface AuthenticatorOptions {
  readonly protocol: "ctap2";
  /** CTAP 2.1 for the PRF (hmac-secret) and largeBlob extensions. */
  readonly ctap2Version: "ctap2_1";
  readonly transport: "internal" | "usb";
  readonly hasResidentKey: boolean;
  readonly hasUserVerification: boolean;
  readonly isUserVerified: boolean;
  readonly automaticPresenceSimulation: boolean;
  readonly hasPrf: boolean;
  readonly hasLargeBlob: boolean;
}

/**
 * A phone or laptop's built-in authenticator: resident keys, biometrics that always succeed, the
 * PRF and largeBlob extensions (as passkey providers have them).
 */
export const PLATFORM_AUTHENTICATOR: AuthenticatorOptions = {
  protocol: "ctap2",
  ctap2Version: "ctap2_1",
  transport: "internal",
  hasResidentKey: true,
  hasUserVerification: true,
  isUserVerified: true,
  automaticPresenceSimulation: true,
  hasPrf: true,
  hasLargeBlob: true,
};

/** A roaming USB security key with a PIN and neither extension. */
export const SECURITY_KEY: AuthenticatorOptions = { ...PLATFORM_AUTHENTICATOR, transport: "usb", hasPrf: false, hasLargeBlob: false };

/** An authenticator that can only test presence (no PIN, no biometrics). */
export const PRESENCE_ONLY_AUTHENTICATOR: AuthenticatorOptions = {
  ...PLATFORM_AUTHENTICATOR,
  hasUserVerification: false,
  isUserVerified: false,
};

/**
 * One tab of the demo (in its own browser context, so its own cookies) with the CDP WebAuthn
 * domain on: only virtual authenticators answer its ceremonies, without any browser UI.
 */
export class DemoPage {
  /** The JSON bodies the page sent to the BFF, by path, to tell which ceremony ran. */
  readonly sent: { path: string; body: unknown }[] = [];

  private constructor(
    readonly page: Page,
    private readonly cdp: CDPSession,
  ) {
    page.on("request", (req) => {
      const body = req.postData();
      if (body !== null) this.sent.push({ path: new URL(req.url()).pathname, body: JSON.parse(body) });
    });
  }

  /**
   * Opens the demo in a new context. Chromium's virtual environment answers conditional (autofill)
   * requests at once, without the pick a person would make, so unless a case is about autofill
   * (`conditionalUi`) the page is told conditional mediation is unavailable, as in a browser
   * without it, and offers the sign-in buttons alone.
   */
  static async open(browser: Browser, url: string, opts: { conditionalUi?: boolean } = {}): Promise<DemoPage> {
    const page = await browser.newPage({ viewport: { width: 1100, height: 720 } });
    if (!opts.conditionalUi) {
      await page.addInitScript("PublicKeyCredential.isConditionalMediationAvailable = async () => false;");
    }
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("WebAuthn.enable", { enableUI: false });
    const demo = new DemoPage(page, cdp);
    await demo.goto(url);
    return demo;
  }

  /** Opens `url` in this tab; its authenticators stay attached across navigations. */
  async goto(url: string): Promise<void> {
    await this.page.goto(url);
    await this.expectStatus("Welcome");
  }

  /** Attaches a virtual authenticator; returns its id. */
  async addAuthenticator(options: AuthenticatorOptions): Promise<string> {
    const { authenticatorId } = await this.cdp.send("WebAuthn.addVirtualAuthenticator", { options: { ...options } });
    return authenticatorId;
  }

  /**
   * Whether an authenticator answers requests made from now on at once (true) or never, like a
   * key nobody touches (false): with two attached, this picks the one that signs.
   */
  async setPresence(authenticatorId: string, enabled: boolean): Promise<void> {
    await this.cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId, enabled });
  }

  /** The credentials an authenticator holds now (a signal may have removed or renamed some). */
  async credentials(authenticatorId: string) {
    return (await this.cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;
  }

  /** Puts a credential into an authenticator, e.g. one a browser kept that the site forgot. */
  async addCredential(authenticatorId: string, credential: VirtualCredential): Promise<void> {
    await this.cdp.send("WebAuthn.addCredential", { authenticatorId, credential });
  }

  async signUp(username: string): Promise<void> {
    await this.page.getByLabel("New username").fill(username);
    await this.page.getByRole("button", { name: "Sign up with a passkey" }).click();
    await this.expectStatus(`Account ${username} created`);
  }

  /** Submits the sign-in form; the caller awaits the outcome it expects. */
  async submitSignIn(username: string, opts: { requireUserVerification?: boolean } = {}): Promise<void> {
    await this.page.getByLabel("Username", { exact: true }).fill(username);
    await this.page.getByLabel(/Require user verification/).setChecked(opts.requireUserVerification ?? false);
    await this.page.getByRole("button", { name: "Sign in", exact: true }).click();
  }

  async signIn(username: string): Promise<void> {
    await this.submitSignIn(username);
    await this.expectSignedIn(username);
  }

  async expectSignedIn(username: string): Promise<void> {
    await this.expectStatus(`Signed in as ${username}.`);
    await expect.poll(() => this.page.locator("#who").textContent(), POLL).toBe(username);
  }

  async signOut(): Promise<void> {
    await this.page.getByRole("button", { name: "Sign out" }).click();
    await this.expectStatus("Signed out.");
  }

  /** Waits until the page has settled (no action running) with `text` in its status line. */
  async expectStatus(text: string): Promise<void> {
    await expect
      .poll(async () => ((await this.page.locator("body[data-busy]").count()) > 0 ? "(busy)" : this.status()), POLL)
      .toContain(text);
  }

  status(): Promise<string | null> {
    return this.page.locator("#status").textContent();
  }

  /** The passkeys table as the user sees it, oldest first. */
  async passkeyRows(): Promise<PasskeyRow[]> {
    const rows = await this.page.locator("#passkeys tr").evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")),
    );
    return rows.map(([provider = "", name = "", transports = "", features = "", , lastUsed, status = ""]) => ({
      provider,
      name,
      transports,
      features,
      used: lastUsed !== "never",
      status,
    }));
  }

  /** What the page says it told the browser (Signal API), newest first. */
  async signalsNoted(): Promise<string[]> {
    return this.page.locator("#signals li").allTextContents();
  }

  async screenshot(name: string, opts: { fullPage?: boolean } = {}): Promise<void> {
    await mkdir(SCREENSHOT_DIR, { recursive: true });
    await this.page.screenshot({ path: `${SCREENSHOT_DIR}/${name}.png`, fullPage: opts.fullPage ?? false });
  }

  async close(): Promise<void> {
    await this.page.context().close();
  }
}

/** A credential as a CDP virtual authenticator holds it (private key included). */
export type VirtualCredential = Awaited<ReturnType<DemoPage["credentials"]>>[number];

/** A row of the passkeys table. */
export interface PasskeyRow {
  readonly provider: string;
  readonly name: string;
  readonly transports: string;
  /** What the browser reported at registration: "discoverable · PRF · large blob", ... */
  readonly features: string;
  readonly used: boolean;
  readonly status: string;
}

/** Page states settle in well under a second; the margin is for a busy 2-core machine. */
const POLL = { timeout: 10_000, interval: 50 };

/**
 * For a test file: Chromium and the demo sites, started before its cases and stopped after.
 * `open` opens the demo at the allowed origin in a new tab and context.
 */
export function useDemoSuite(opts: { readonly mds?: () => Promise<MdsCatalog> } = {}) {
  return useBrowserSuite(async () => startDemoSites(opts.mds ? { mds: await opts.mds() } : {}));
}

/**
 * For a test file: sites and a Chromium, started before its cases and stopped after. A browser
 * that needs to know the sites (`launchArgs`, e.g. host mappings) starts after them, else both
 * start at once.
 */
export function useBrowserSuite<S extends Sites>(start: () => Promise<S>, launchArgs?: (sites: S) => string[]) {
  let browser: Promise<Browser> | undefined;
  let sites: S | undefined;
  beforeAll(async () => {
    // A browser that does not start fails each case, in `open`: thrown from this hook it would
    // fail the file but report its cases as skipped.
    if (launchArgs) {
      sites = await start();
      browser = launchChromium(launchArgs(sites));
      await browser.catch(() => undefined);
    } else {
      browser = launchChromium();
      [, sites] = await Promise.all([browser.catch(() => undefined), start()]);
    }
  });
  afterAll(async () => {
    await browser?.then((started) => started.close(), () => undefined);
    await sites?.close();
  });
  return {
    get sites(): S {
      return sites!;
    },
    /** Opens `url` (the allowed site by default) in a new tab and context. */
    open: async (opts: { conditionalUi?: boolean; url?: string } = {}) => DemoPage.open(await browser!, opts.url ?? sites!.site, opts),
  };
}
