import { describe, expect, it } from "vitest";
import { isStrictCbor } from "../../src/webauthn/strict-cbor.js";

const hex = (s: string) => Buffer.from(s.replaceAll(" ", ""), "hex");

describe("isStrictCbor", () => {
  it("accepts one canonical item", () => {
    expect(isStrictCbor(hex("a2 01 02 03 26"))).toBe(true); // {1: 2, 3: -7}
    expect(isStrictCbor(hex("a1 63 66 6d 74 64 6e 6f 6e 65"))).toBe(true); // {"fmt": "none"}
    expect(isStrictCbor(hex("58 20" + "00".repeat(32)))).toBe(true);
  });

  it.each([
    ["a byte string longer than the input", "58 ff 01 02"],
    ["a byte string 2^32-1 long", "5a ff ff ff ff 01"],
    ["bytes after the item", "a1 01 02 00"],
    ["a repeated map key", "a2 01 02 01 03"],
    ["an indefinite-length map", "bf 01 02 ff"],
    ["an indefinite-length byte string", "5f 41 01 ff"],
    ["an integer in a longer form than needed", "a1 01 18 02"],
    ["a negative integer in a longer form than needed", "a1 03 38 06"],
    ["a length in a longer form than needed", "58 01 00"],
    ["a tag (bignum)", "c2 41 01"],
    ["undefined", "f7"],
    ["nothing", ""],
    ["nesting deeper than the stack", "81".repeat(200_000) + "01"],
  ])("refuses %s", (_, bytes) => {
    expect(isStrictCbor(hex(bytes))).toBe(false);
  });
});
