import { describe, expect, it } from "vitest";
import { buildCatalog, type MdsCatalog, type RawEntry } from "../../src/attestation/mds-catalog.js";
import { ProviderNames } from "../../src/attestation/provider-names.js";
import { mdsEntry, PNG_ICON, withIcon } from "../support/attestation-pki.js";

const APPLE = "fbfc3007-154e-4ecc-8c0b-6e020557d7bd";
const GOOGLE = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4";
const KEY = "ee882879-721c-4913-9775-3dfcce97072a";

/** A catalogue built by the service's own code from MDS3 entries. */
function catalogOf(...entries: Record<string, unknown>[]): MdsCatalog {
  return buildCatalog(1, new Date("2026-07-01T00:00:00Z"), entries as unknown as RawEntry[]);
}

describe("provider names", () => {
  it("names passkey providers and keys from the community list, MDS descriptions first", () => {
    const names = new ProviderNames();
    expect(names.nameOf(APPLE)).toBe("Apple Passwords");
    expect(names.nameOf(GOOGLE.toUpperCase())).toBe("Google Password Manager");
    expect(names.nameOf("00000000-0000-0000-0000-000000000000")).toBe("");
    expect(names.nameOf("12345678-0000-4000-8000-000000000000")).toBe("");
    expect(names.nameOf("constructor")).toBe("");
    const mds = catalogOf(mdsEntry(APPLE, "From MDS", []));
    const withMds = new ProviderNames(() => mds);
    expect(withMds.nameOf(APPLE)).toBe("From MDS");
    expect(withMds.nameOf(GOOGLE)).toBe("Google Password Manager");
  });
});

describe("provider icons", () => {
  it("gives the MDS statement's icon as the light icon, whatever the AAGUID's case; dark stays empty", () => {
    const mds = catalogOf(withIcon(mdsEntry(KEY, "Test Key", []), PNG_ICON));
    const names = new ProviderNames(() => mds);
    expect(names.iconsOf(KEY.toUpperCase())).toEqual({ light: PNG_ICON, dark: "" });
  });

  it("gives no icon without MDS, for a model MDS does not list, or one listed without an icon: the community package has names only", () => {
    expect(new ProviderNames().iconsOf(GOOGLE)).toEqual({ light: "", dark: "" });
    const mds = catalogOf(mdsEntry(KEY, "Test Key", []));
    const names = new ProviderNames(() => mds);
    expect(names.iconsOf(KEY)).toEqual({ light: "", dark: "" });
    expect(names.iconsOf(GOOGLE)).toEqual({ light: "", dark: "" });
    expect(names.iconsOf("constructor")).toEqual({ light: "", dark: "" });
  });

  it("drops an icon the service may not pass on, as a finding of the BLOB; the entry and its name stay", () => {
    const others = ["fa2b99dc-9e39-4257-8f92-4a30d23c4118", "0bb43545-fd2c-4185-87dd-feb0b2916ace", "2fc0579f-8113-47ea-b116-bb5a8db9202a"];
    const mds = catalogOf(
      withIcon(mdsEntry(KEY, "Remote", []), "https://vendor.example/track.png"),
      withIcon(mdsEntry(others[0]!, "Script", []), "javascript:alert(document.cookie)"),
      withIcon(mdsEntry(others[1]!, "Number", []), 42),
      withIcon(mdsEntry(others[2]!, "Html", []), "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="),
    );
    const names = new ProviderNames(() => mds);
    for (const aaguid of [KEY, ...others]) expect(names.iconsOf(aaguid), aaguid).toEqual({ light: "", dark: "" });
    expect(names.nameOf(KEY)).toBe("Remote");
    expect(mds.findings).toEqual([
      `entry ${KEY}: icon is not a base64 data:image/png or data:image/svg+xml URI; not shown`,
      `entry ${others[0]}: icon is not a base64 data:image/png or data:image/svg+xml URI; not shown`,
      `entry ${others[1]}: icon is not a string; not shown`,
      `entry ${others[2]}: icon is not a base64 data:image/png or data:image/svg+xml URI; not shown`,
    ]);
  });

  it("keeps an icon when a duplicate entry of the same AAGUID has none", () => {
    const mds = catalogOf(mdsEntry(KEY, "Test Key", []), withIcon(mdsEntry(KEY, "Test Key", []), PNG_ICON));
    expect(new ProviderNames(() => mds).iconsOf(KEY).light).toBe(PNG_ICON);
  });
});
