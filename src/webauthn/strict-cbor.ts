import { decode, type DecodeOptions } from "cborg";

/**
 * What authenticators send is CTAP2 canonical CBOR. @simplewebauthn/server's decoder
 * (tiny-cbor) is lenient: a byte string whose declared length runs past the input is cut short
 * without error when it is the last item, and duplicate map keys, indefinite lengths and
 * long-form integers pass (fifth attack run). cborg decodes strictly: every length within the
 * input, the whole input one item, shortest-form integers and lengths, no indefinite lengths, no
 * undefined, no tags, no repeated map key.
 */
const STRICT: DecodeOptions = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  rejectDuplicateMapKeys: true,
  useMaps: true,
};

/** True when `bytes` is exactly one CBOR item in the strict form authenticators produce. */
export function isStrictCbor(bytes: Uint8Array): boolean {
  try {
    decode(bytes, STRICT);
    return true;
  } catch {
    return false; // cborg's errors, and a RangeError from nesting deeper than the stack
  }
}
