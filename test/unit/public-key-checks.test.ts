import { generateKeyPairSync } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { describe, expect, it } from "vitest";
import { isPrimeOrderEd25519, isSoundRsaKey, MAX_RSA_MODULUS_BITS, MIN_RSA_MODULUS_BITS } from "../../src/webauthn/public-key-checks.js";

const { Point } = ed25519;
/** A point of order 8 (libsodium's blocklist); its multiples are the whole torsion subgroup. */
const ORDER_EIGHT = Point.fromBytes(Buffer.from("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", "hex"));
const TORSION = [Point.ZERO, ...Array.from({ length: 7 }, (_, i) => ORDER_EIGHT.multiply(BigInt(i + 1)))];
const realEd25519 = () => Buffer.from(generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" }).x!, "base64url");

/** A modulus of exactly `bits` bits, odd, that is not checked for primality (the checks do not factor). */
function modulus(bits: number): Buffer {
  const n = Buffer.alloc(Math.ceil(bits / 8), 0xa5);
  n[0] = 1 << ((bits - 1) % 8);
  n[n.length - 1]! |= 1;
  return n;
}

describe("isPrimeOrderEd25519", () => {
  it("accepts real keys and the base point", () => {
    for (let i = 0; i < 20; i++) expect(isPrimeOrderEd25519(realEd25519())).toBe(true);
    expect(isPrimeOrderEd25519(Point.BASE.toBytes())).toBe(true);
  });

  it("refuses all eight points of small order, the identity among them", () => {
    expect(new Set(TORSION.map((p) => Buffer.from(p.toBytes()).toString("hex"))).size).toBe(8);
    for (const point of TORSION) expect(isPrimeOrderEd25519(point.toBytes()), Buffer.from(point.toBytes()).toString("hex")).toBe(false);
  });

  it("refuses a real key plus a small-order point (mixed order)", () => {
    const key = Point.fromBytes(realEd25519());
    for (const t of TORSION.slice(1)) expect(isPrimeOrderEd25519(key.add(t).toBytes())).toBe(false);
  });

  it("refuses encodings that are not canonical, not on the curve, or not 32 bytes", () => {
    expect(isPrimeOrderEd25519(Buffer.from(`ee${"ff".repeat(30)}7f`, "hex"))).toBe(false); // y = p + 1, the identity again
    const negativeZero = Buffer.from(Point.ZERO.toBytes());
    negativeZero[31]! |= 0x80; // x = 0 with the sign bit set
    expect(isPrimeOrderEd25519(negativeZero)).toBe(false);
    expect(isPrimeOrderEd25519(Buffer.concat([Buffer.of(2), Buffer.alloc(31)]))).toBe(false); // y = 2: no x
    expect(isPrimeOrderEd25519(realEd25519().subarray(0, 31))).toBe(false);
    expect(isPrimeOrderEd25519(Buffer.concat([realEd25519(), Buffer.of(0)]))).toBe(false);
  });
});

describe("isSoundRsaKey", () => {
  const F4 = Buffer.of(1, 0, 1);

  it("accepts a real key and the modulus bounds", () => {
    const jwk = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ format: "jwk" });
    expect(isSoundRsaKey(Buffer.from(jwk.n!, "base64url"), Buffer.from(jwk.e!, "base64url"))).toBe(true);
    expect(isSoundRsaKey(modulus(MIN_RSA_MODULUS_BITS), F4)).toBe(true);
    expect(isSoundRsaKey(modulus(MAX_RSA_MODULUS_BITS), F4)).toBe(true);
    expect(isSoundRsaKey(modulus(3488), F4)).toBe(true); // the W3C vector's size
  });

  it("refuses moduli below or above the bounds, even ones, and ones with a leading zero byte", () => {
    expect(isSoundRsaKey(modulus(MIN_RSA_MODULUS_BITS - 1), F4)).toBe(false);
    expect(isSoundRsaKey(modulus(1024), F4)).toBe(false);
    expect(isSoundRsaKey(modulus(MAX_RSA_MODULUS_BITS + 1), F4)).toBe(false);
    const even = modulus(2048);
    even[even.length - 1]! &= 0xfe;
    expect(isSoundRsaKey(even, F4)).toBe(false);
    expect(isSoundRsaKey(Buffer.concat([Buffer.of(0), modulus(2048)]), F4)).toBe(false);
    expect(isSoundRsaKey(Buffer.alloc(0), F4)).toBe(false);
  });

  it("accepts odd exponents from 3 below 2^32 and refuses the rest", () => {
    const n = modulus(2048);
    for (const e of [Buffer.of(3), F4, Buffer.of(0xff, 0xff, 0xff, 0xff)]) expect(isSoundRsaKey(n, e), e.toString("hex")).toBe(true);
    for (const e of [Buffer.of(1), Buffer.of(2), Buffer.of(1, 0, 0), Buffer.of(0, 1, 0, 1), Buffer.of(1, 0, 0, 0, 1), Buffer.alloc(0)]) {
      expect(isSoundRsaKey(n, e), e.toString("hex")).toBe(false);
    }
  });
});
