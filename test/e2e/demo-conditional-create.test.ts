import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBff, type StartedBff } from "../../demo/bff.js";
import { DemoLog, demoBffOptions, demoTenant, freePort } from "../support/demo-sites.js";
import { startTestService, type TestService } from "../support/service.js";
import { SoftAuthenticator } from "../support/soft-authenticator.js";

/**
 * The demo's automatic passkey upgrade through its BFF, with the software authenticator answering
 * as a browser's password manager does (UP=0): the part of conditional create Chromium's virtual
 * authenticators cannot play (docs/level3.md, "In the browser").
 */
describe("demo BFF: conditional create after a one-time-code sign-in", () => {
  let service: TestService;
  let bff: StartedBff;
  let site: string;
  const log = new DemoLog();

  beforeAll(async () => {
    site = `http://localhost:${await freePort()}`;
    service = await startTestService(undefined, { tenant: demoTenant({ origins: [site] }) });
    bff = await startBff(demoBffOptions(service, site, log), "127.0.0.1");
  });
  afterAll(async () => {
    await bff?.close();
    await service?.close();
  });

  /** A page of the demo: JSON with the site's Origin, the cookies the BFF set. */
  function browserOf() {
    const cookies = new Map<string, string>();
    return async (path: string, body: unknown): Promise<{ status: number; json: any }> => {
      const res = await fetch(new URL(path, site), {
        method: "POST",
        headers: {
          origin: site,
          "content-type": "application/json",
          cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join("; "),
        },
        body: JSON.stringify(body),
      });
      for (const header of res.headers.getSetCookie()) {
        const [name, value] = header.split(";")[0]!.split("=") as [string, string];
        cookies.set(name, value);
      }
      return { status: res.status, json: await res.json() };
    };
  }

  async function signedInWithCode(username: string) {
    const post = browserOf();
    expect((await post("/api/code/send", { username })).status).toBe(200);
    expect((await post("/api/code/signin", { username, code: log.codeFor(username) })).status).toBe(200);
    return post;
  }

  it("a conditional ceremony accepts the password manager's attestation without user presence; the passkey says so", async () => {
    const post = await signedInWithCode("olga");
    const begun = await post("/api/passkeys/begin", { conditional: true });
    expect(begun.status).toBe(200);
    const credential = new SoftAuthenticator().create(begun.json.options, site, { conditional: true });

    const finished = await post("/api/register/finish", { credential, name: "Created automatically" });
    expect(finished.status).toBe(200);
    expect(finished.json.passkey).toMatchObject({ name: "Created automatically", createdConditionally: true });
    expect(finished.json.signal).toMatchObject({ method: "signalAllAcceptedCredentials" });
    expect(JSON.parse(finished.json.signal.optionsJson).allAcceptedCredentialIds).toEqual([credential.id]);
  });

  it("the same attestation for a ceremony begun normally (the form) is refused: USER_PRESENCE_REQUIRED", async () => {
    const post = await signedInWithCode("piet");
    const begun = await post("/api/passkeys/begin", { hint: "client-device" });
    const credential = new SoftAuthenticator().create(begun.json.options, site, { conditional: true });
    const finished = await post("/api/register/finish", { credential });
    expect(finished).toMatchObject({ status: 401, json: { error: "USER_PRESENCE_REQUIRED" } });
  });
});
