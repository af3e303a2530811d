import { describe, expect, it } from "vitest";
import { MAX_PROVIDER_ICON_CHARS, providerIconProblem } from "../../src/attestation/provider-icon.js";
import { PNG_ICON } from "../support/attestation-pki.js";

const svg = (text: string) => `data:image/svg+xml;base64,${Buffer.from(text).toString("base64")}`;
const PNG_BASE64 = PNG_ICON.slice("data:image/png;base64,".length);

describe("provider icons the service passes on", () => {
  it("accepts a base64 PNG and a base64 SVG data: URI", () => {
    expect(providerIconProblem(PNG_ICON)).toBeUndefined();
    expect(providerIconProblem(svg('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeUndefined();
  });

  it("refuses every other scheme: a remote image would tell its host who opens the page, javascript: runs", () => {
    for (const uri of ["https://vendor.example/icon.png", "http://vendor.example/icon.png", "javascript:alert(1)", "//vendor.example/i.png", "blob:https://x/1", "file:///etc/passwd", ""]) {
      expect(providerIconProblem(uri), uri).toMatch(/not a base64 data:image/);
    }
  });

  it("refuses other media types and encodings: HTML, a script, an image not base64 encoded, a prefix in other case", () => {
    for (const uri of [
      "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
      "data:application/javascript;base64,YWxlcnQoMSk=",
      "data:image/svg+xml,<svg onload=alert(1)>",
      "data:image/svg+xml;utf8,<svg/>",
      "data:image/gif;base64,R0lGODlhAQABAAAAACw=",
      `DATA:IMAGE/PNG;BASE64,${PNG_BASE64}`,
      `data:image/png;charset=utf-8;base64,${PNG_BASE64}`,
    ]) {
      expect(providerIconProblem(uri), uri).toMatch(/not a base64 data:image/);
    }
  });

  it("refuses base64 that is not canonical: characters outside the alphabet, quotes and markup, missing padding, nothing", () => {
    for (const uri of [`${PNG_ICON}"><script>alert(1)</script>`, `${PNG_ICON} `, PNG_ICON.replace(/=+$/, ""), `${PNG_ICON.slice(0, 40)}\n${PNG_ICON.slice(40)}`, "data:image/png;base64,"]) {
      expect(providerIconProblem(uri), uri).toBe("icon is not canonical base64");
    }
  });

  it("refuses content that is not the image its media type says", () => {
    expect(providerIconProblem(`data:image/png;base64,${Buffer.from("<svg/>").toString("base64")}`)).toBe("not a PNG image");
    expect(providerIconProblem(svg("<html><script>alert(1)</script></html>"))).toBe("not an SVG image");
    expect(providerIconProblem(`data:image/svg+xml;base64,${Buffer.from([0x3c, 0x73, 0x76, 0x67, 0xff]).toString("base64")}`)).toBe("SVG image is not UTF-8");
  });

  it("refuses an icon longer than the bound, and accepts the largest within it", () => {
    // base64 grows 4 characters per 3 bytes: the largest SVG whose URI fits, and one step more.
    const largest = Math.floor((MAX_PROVIDER_ICON_CHARS - "data:image/svg+xml;base64,".length) / 4) * 3;
    const sized = (bytes: number) => svg("<svg/>".padEnd(bytes, " "));
    expect(sized(largest).length).toBeLessThanOrEqual(MAX_PROVIDER_ICON_CHARS);
    expect(providerIconProblem(sized(largest))).toBeUndefined();
    expect(sized(largest + 3).length).toBeGreaterThan(MAX_PROVIDER_ICON_CHARS);
    expect(providerIconProblem(sized(largest + 3))).toMatch(/longer than/);
  });
});
