/**
 * The common name in a distinguished name written as RFC 4514 (RFC 2253) text, the way OpenSSL
 * renders a certificate subject for Envoy's XFCC `Subject` (`CN=a\,b,O=Acme`: ',' '+' between
 * attributes, no spaces, specials and non-ASCII bytes escaped with '\'). Read strictly: the
 * maintained DN parsers on npm either skip what they do not understand (@peculiar/x509) or are
 * archived (@ldapjs/dn), and a lenient read of an identity is what this must not be.
 */

const TYPE = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)$/;
const HEX_PAIR = /^[0-9A-Fa-f]{2}$/;
/** Characters RFC 4514 allows after '\' as themselves. */
const ESCAPABLE = new Set([..." \"#+,;<=>\\"]);
/** Characters that may not appear unescaped in a value. */
const MUST_ESCAPE = new Set([..."\"+,;<>\\\0"]);
const COMMON_NAME = new Set(["cn", "2.5.4.3"]);

class NotAName extends Error {}

interface Attribute {
  readonly type: string;
  /** undefined for a `#hex` (BER) value, which no identity is read from. */
  readonly value: string | undefined;
}

/**
 * The CN's value; "" when the name has none; undefined when `dn` is not RFC 4514 text or holds
 * more than one CN (which one names the caller would be a guess).
 */
export function commonNameOf(dn: string): string | undefined {
  let attributes: Attribute[];
  try {
    attributes = parseName(dn);
  } catch (err) {
    if (err instanceof NotAName) return undefined;
    throw err;
  }
  const cns = attributes.filter((a) => COMMON_NAME.has(a.type.toLowerCase()));
  if (cns.length === 0) return "";
  if (cns.length > 1 || cns[0]!.value === undefined) return undefined;
  return cns[0]!.value;
}

/** Every attribute of every RDN, in order. */
function parseName(dn: string): Attribute[] {
  const attributes: Attribute[] = [];
  let at = 0;
  while (at < dn.length) {
    const eq = dn.indexOf("=", at);
    if (eq < 0) throw new NotAName();
    const type = dn.slice(at, eq);
    if (!TYPE.test(type)) throw new NotAName();
    const { value, end } = dn[eq + 1] === "#" ? hexValue(dn, eq + 2) : stringValue(dn, eq + 1);
    attributes.push({ type, value });
    at = end;
    if (at === dn.length) break;
    // ',' separates RDNs, '+' the attributes of one: both only separate here.
    if (dn[at] !== "," && dn[at] !== "+") throw new NotAName();
    if (++at === dn.length) throw new NotAName();
  }
  return attributes;
}

function hexValue(dn: string, start: number): { value: undefined; end: number } {
  let end = start;
  while (HEX_PAIR.test(dn.slice(end, end + 2))) end += 2;
  if (end === start) throw new NotAName();
  return { value: undefined, end };
}

/** A string value up to the next unescaped ',' or '+'; escapes decoded, bytes read as UTF-8. */
function stringValue(dn: string, start: number): { value: string; end: number } {
  const bytes: number[] = [];
  let at = start;
  while (at < dn.length && dn[at] !== "," && dn[at] !== "+") {
    const c = dn[at]!;
    if (c === "\\") {
      const next = dn[at + 1] ?? "";
      const hex = dn.slice(at + 1, at + 3);
      if (HEX_PAIR.test(hex)) {
        bytes.push(parseInt(hex, 16));
        at += 3;
      } else if (ESCAPABLE.has(next)) {
        bytes.push(next.charCodeAt(0));
        at += 2;
      } else {
        throw new NotAName();
      }
      continue;
    }
    const code = c.charCodeAt(0);
    const edge = at === start || at + 1 === dn.length || dn[at + 1] === "," || dn[at + 1] === "+";
    // RFC 4514 §2.4: a leading or trailing space must be escaped (a leading '#' is a hex value).
    if (MUST_ESCAPE.has(c) || code < 0x20 || code === 0x7f || code > 0xff || (edge && c === " ")) throw new NotAName();
    bytes.push(code);
    at++;
  }
  try {
    return { value: new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array(bytes)), end: at };
  } catch {
    throw new NotAName();
  }
}
