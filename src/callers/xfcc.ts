import { commonNameOf } from "./distinguished-name.js";
import { commonNameIdentity, uriIdentity, type IdentityResult } from "./identity-result.js";

/**
 * Envoy's x-forwarded-client-cert header (text format), read strictly. Each proxy that verified
 * a client certificate appends one element after a ','; an element is `key=value` pairs joined
 * by ';'. Envoy writes `By`, `Hash`, `URI` and `DNS` bare (one `URI` per URI SAN, `URI=` for
 * none) and `Subject`, `Cert`, `Chain` in double quotes, without escaping anything inside: the
 * Subject is OpenSSL's RFC 2253 rendering, which escapes its own '"' and '\' with '\'.
 *
 * Everything before the trusted proxies' elements was written by the client, so a header is
 * read whole and refused when any part of it is not of that grammar (an unbalanced quote, a
 * stray character): guessing where a malformed client element ends is what let a client's open
 * quote swallow the sidecar's element (issue 13). No npm package parses XFCC strictly; the
 * grammar is small enough to read here in one pass.
 */

interface Pair {
  readonly key: string;
  /** The raw text between the quotes for a quoted value, the text itself for a bare one. */
  readonly value: string;
  readonly quoted: boolean;
}

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]/; // RFC 9110 tchar
/** A bare value: visible ASCII other than the separators, quotes and backslash ('=' may appear: Envoy writes URIs bare). */
const BARE = /[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]/;
const OWS = /[ \t]/;

class XfccSyntaxError extends Error {}

/** One left-to-right pass over the header; every element, or a syntax error. */
class Reader {
  #at = 0;
  constructor(private readonly text: string) {}

  elements(): Pair[][] {
    const elements: Pair[][] = [];
    for (;;) {
      this.#skip(OWS);
      // RFC 9110 §5.6.1: empty list elements are ignored (no proxy appends one).
      if (this.#peek() !== "," && !this.#done()) elements.push(this.#element());
      this.#skip(OWS);
      if (this.#done()) return elements;
      this.#expect(",");
    }
  }

  #element(): Pair[] {
    const pairs = [this.#pair()];
    while (this.#peek() === ";") {
      this.#at++;
      pairs.push(this.#pair());
    }
    return pairs;
  }

  #pair(): Pair {
    const key = this.#run(TOKEN);
    if (!key) throw new XfccSyntaxError("a key is missing");
    this.#expect("=");
    if (this.#peek() !== '"') return { key: key.toLowerCase(), value: this.#run(BARE), quoted: false };
    const start = ++this.#at;
    while (!this.#done() && this.#peek() !== '"') this.#at += this.#peek() === "\\" ? 2 : 1;
    if (this.#done()) throw new XfccSyntaxError("unbalanced quote");
    const value = this.text.slice(start, this.#at++);
    return { key: key.toLowerCase(), value, quoted: true };
  }

  #run(chars: RegExp): string {
    const start = this.#at;
    while (!this.#done() && chars.test(this.#peek())) this.#at++;
    return this.text.slice(start, this.#at);
  }

  #skip(chars: RegExp): void {
    this.#run(chars);
  }

  #expect(c: string): void {
    if (this.#peek() !== c) throw new XfccSyntaxError(this.#done() ? `'${c}' expected at the end` : `stray character where '${c}' was expected`);
    this.#at++;
  }

  #peek(): string {
    return this.text[this.#at] ?? "";
  }

  #done(): boolean {
    return this.#at >= this.text.length;
  }
}

/**
 * The caller named by the element `trustedHops` from the end: the one the outermost trusted
 * proxy appended (1 = this pod's sidecar; like Envoy's xff_num_trusted_hops). Its first non-empty
 * URI, else the CN of its Subject (never one shaped like a URI); "" when it names neither.
 */
export function xfccIdentity(header: string, trustedHops: number): IdentityResult {
  let elements: Pair[][];
  try {
    elements = new Reader(header).elements();
  } catch (err) {
    if (err instanceof XfccSyntaxError) return { rejected: err.message };
    throw err;
  }
  const trusted = elements[elements.length - trustedHops];
  if (!trusted) return { rejected: `fewer elements than the ${trustedHops} trusted hops` };
  return identityOf(trusted);
}

function identityOf(element: Pair[]): IdentityResult {
  const uris = element.filter((p) => p.key === "uri");
  const uri = uris.find((p) => p.value !== "");
  if (uri) return uriIdentity(uri.value);
  const subjects = element.filter((p) => p.key === "subject");
  if (subjects.length === 0) return { identity: "" };
  if (subjects.length > 1) return { rejected: "Subject repeated" };
  const subject = subjects[0]!;
  if (!subject.quoted) return { rejected: "Subject not quoted" };
  const cn = commonNameOf(subject.value);
  return cn === undefined ? { rejected: "Subject is not one RFC 4514 name with at most one CN" } : commonNameIdentity(cn);
}
