import { mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { chromium, type Browser, type CDPSession, type Page } from "playwright-core";
import { afterAll, beforeAll, expect } from "vitest";
import { startBff } from "../../demo/bff.js";
import { AuthService } from "../../src/gen/authn/v1/auth_service_pb.js";
import { CHROMIUM_ADVICE, chromiumExecutable } from "./chromium.js";
import { startTestService, TEST_TENANT } from "./service.js";

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
async function launchChromium(): Promise<Browser> {
  const chromiumFile = await chromiumExecutable();
  try {
    return await chromium.launch({ executablePath: chromiumFile.path, args: LAUNCH_ARGS, headless: true });
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
  readonly transport: "internal" | "usb";
  readonly hasResidentKey: boolean;
  readonly hasUserVerification: boolean;
  readonly isUserVerified: boolean;
  readonly automaticPresenceSimulation: boolean;
}

/** A phone or laptop's built-in authenticator: resident keys, biometrics that always succeed. */
export const PLATFORM_AUTHENTICATOR: AuthenticatorOptions = {
  protocol: "ctap2",
  transport: "internal",
  hasResidentKey: true,
  hasUserVerification: true,
  isUserVerified: true,
  automaticPresenceSimulation: true,
};

/** A roaming USB security key with a PIN. */
export const SECURITY_KEY: AuthenticatorOptions = { ...PLATFORM_AUTHENTICATOR, transport: "usb" };

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

  async credentials(authenticatorId: string) {
    return (await this.cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;
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
  async passkeyRows(): Promise<{ name: string; transports: string; used: boolean; status: string }[]> {
    const rows = await this.page.locator("#passkeys tr").evaluateAll((trs) =>
      trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")),
    );
    return rows.map(([name = "", transports = "", , lastUsed, status = ""]) => ({
      name,
      transports,
      used: lastUsed !== "never",
      status,
    }));
  }

  async screenshot(name: string): Promise<void> {
    await mkdir(SCREENSHOT_DIR, { recursive: true });
    await this.page.screenshot({ path: `${SCREENSHOT_DIR}/${name}.png` });
  }

  async close(): Promise<void> {
    await this.page.context().close();
  }
}

/** Page states settle in well under a second; the margin is for a busy 2-core machine. */
const POLL = { timeout: 10_000, interval: 50 };

/**
 * dynauthn plus the demo BFF at an allowed origin (`site`) and a second copy of the demo on
 * another localhost port that dynauthn does not allow (`foreign`), both calling it over gRPC.
 */
export interface DemoSites {
  readonly site: string;
  readonly foreign: string;
  close(): Promise<void>;
}

/**
 * A port picked free may be taken by another test file's listener before the BFF binds it (the
 * origins must be known before dynauthn starts, so the BFFs cannot simply listen on port 0):
 * such a start is undone and tried again on new ports.
 */
async function startDemoSites(attempts = 5): Promise<DemoSites> {
  const site = `http://localhost:${await freePort()}`;
  const foreign = `http://localhost:${await freePort()}`;
  const service = await startTestService(undefined, { tenant: { ...TEST_TENANT, origins: [site] } });
  const auth = createClient(AuthService, createGrpcTransport({ baseUrl: service.baseUrl }));
  const publicDir = fileURLToPath(new URL("../../demo/public/", import.meta.url));
  const started = await Promise.allSettled(
    [site, foreign].map((origin) =>
      startBff({ auth, jwksUrl: new URL("/.well-known/jwks.json", service.baseUrl), origin, publicDir }, "127.0.0.1"),
    ),
  );
  const bffs = started.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
  const close = async () => {
    await Promise.all(bffs.map((bff) => bff.close()));
    await service.close();
  };
  const failure = started.find((result) => result.status === "rejected");
  if (failure) {
    await close();
    const portTaken = (failure.reason as NodeJS.ErrnoException).code === "EADDRINUSE";
    if (portTaken && attempts > 1) return startDemoSites(attempts - 1);
    throw failure.reason;
  }
  return { site, foreign, close };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * For a test file: Chromium and the demo sites, started before its cases and stopped after.
 * `open` opens the demo at the allowed origin in a new tab and context.
 */
export function useDemoSuite() {
  let browser: Promise<Browser> | undefined;
  let sites: DemoSites | undefined;
  beforeAll(async () => {
    // A browser that does not start fails each case, in `open`: thrown from this hook it would
    // fail the file but report its cases as skipped.
    browser = launchChromium();
    [, sites] = await Promise.all([browser.catch(() => undefined), startDemoSites()]);
  });
  afterAll(async () => {
    await browser?.then((started) => started.close(), () => undefined);
    await sites?.close();
  });
  return {
    get sites(): DemoSites {
      return sites!;
    },
    open: async (opts: { conditionalUi?: boolean } = {}) => DemoPage.open(await browser!, sites!.site, opts),
  };
}
