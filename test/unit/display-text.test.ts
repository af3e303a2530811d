import { describe, expect, it } from "vitest";
import { replaceUndisplayable, undisplayableCharacter } from "../../src/field-limits.js";
import { boundedCallContext, callContextOf, displayText } from "../../src/rpc/fields.js";
import { HONEST_DISPLAY_TEXT, HOSTILE_DISPLAY_TEXT } from "../support/hostile.js";

describe("display text: what stored free text may contain", () => {
  it("names the first control, format (bidi), separator character or lone surrogate", () => {
    for (const [name, text] of Object.entries(HOSTILE_DISPLAY_TEXT)) expect([name, undisplayableCharacter(text)]).not.toEqual([name, undefined]);
    expect(undisplayableCharacter("Laptop\u202Egnp.exe")).toBe("U+202E");
    expect(undisplayableCharacter("a\uD800")).toBe("U+D800");
    expect(undisplayableCharacter("\uDC00b")).toBe("U+DC00");
    expect(undisplayableCharacter("Key\u{E0041}")).toBe("U+E0041");
    for (const text of [...HONEST_DISPLAY_TEXT, "", "Zoë", "😀", "\uFFFD"]) expect([text, undisplayableCharacter(text)]).toEqual([text, undefined]);
  });

  it("displayText refuses as FIELD_INVALID naming the field and the code point, never echoing the text", () => {
    expect(() => displayText("name", "a\u202Eb", 0, 128)).toThrow(expect.objectContaining({ reason: "FIELD_INVALID", metadata: { field: "name" } }));
    expect(() => displayText("name", "a\u202Eb", 0, 128)).toThrow(/\(U\+202E\)$/);
    expect(() => displayText("name", "x".repeat(129), 0, 128)).toThrow(expect.objectContaining({ reason: "FIELD_INVALID" }));
    expect(displayText("name", HONEST_DISPLAY_TEXT[1]!, 0, 128)).toBe(HONEST_DISPLAY_TEXT[1]);
  });

  it("what an end user's client sends through ext_authz is cleaned, not refused: U+FFFD in the user agent, an odd address dropped", () => {
    expect(replaceUndisplayable("Mozilla\u202E\u0000/5.0\uD800")).toBe("Mozilla\uFFFD\uFFFD/5.0\uFFFD");
    expect(boundedCallContext("c", "203.0.113.9\u202E", "UA\u2028x")).toEqual({ caller: "c", clientIp: "", clientUserAgent: "UA\uFFFDx" });
    expect(boundedCallContext("c", "203.0.113.9", "Mozilla/5.0")).toEqual({ caller: "c", clientIp: "203.0.113.9", clientUserAgent: "Mozilla/5.0" });
  });

  it("a caller's client context: the user agent (a header it passes on) is cleaned, a reported address with such a character refused", () => {
    const ctx = { values: { get: () => "caller" } } as unknown as Parameters<typeof callContextOf>[0];
    expect(callContextOf(ctx, { ip: "203.0.113.9", userAgent: "UA\u00AD\u0085x" })).toEqual({ caller: "caller", clientIp: "203.0.113.9", clientUserAgent: "UA\uFFFD\uFFFDx" });
    expect(() => callContextOf(ctx, { ip: "203.0.113.9\n", userAgent: "" })).toThrow(expect.objectContaining({ reason: "FIELD_INVALID", metadata: { field: "client.ip" } }));
  });
});
