import { describe, expect, it } from "vitest";
import { OneTimeCodes } from "../../demo/one-time-codes.js";

/** The demo's stand-in for a password (demo/one-time-codes.ts). */
describe("demo one-time codes", () => {
  const clock = () => {
    let now = 1_000_000;
    return { read: () => now, advance: (ms: number) => (now += ms) };
  };

  it("a code is six digits and signs in once", () => {
    const codes = new OneTimeCodes();
    const code = codes.issue("ada");
    expect(code).toMatch(/^\d{6}$/);
    expect(codes.redeem("ada", code)).toBe(true);
    expect(codes.redeem("ada", code)).toBe(false);
  });

  it("belongs to its username only", () => {
    const codes = new OneTimeCodes();
    const code = codes.issue("ada");
    expect(codes.redeem("ben", code)).toBe(false);
    expect(codes.redeem("ada", code)).toBe(true);
  });

  it("expires after five minutes", () => {
    const time = clock();
    const codes = new OneTimeCodes(time.read);
    const code = codes.issue("ada");
    time.advance(5 * 60_000);
    expect(codes.redeem("ada", code)).toBe(false);
  });

  it("five wrong guesses end it, the right code included", () => {
    const codes = new OneTimeCodes();
    const code = codes.issue("ada");
    const wrong = code === "000000" ? "000001" : "000000";
    for (let i = 0; i < 5; i++) expect(codes.redeem("ada", wrong)).toBe(false);
    expect(codes.redeem("ada", code)).toBe(false);
  });

  it("a new request replaces the earlier code", () => {
    const codes = new OneTimeCodes();
    const first = codes.issue("ada");
    let second = codes.issue("ada");
    while (second === first) second = codes.issue("ada");
    expect(codes.redeem("ada", first)).toBe(false);
    expect(codes.redeem("ada", second)).toBe(true);
  });
});
