/**
 * The x-forwarded-client-cert parser: Envoy's grammar read strictly, the caller taken from the
 * element the outermost trusted proxy appended, and (property) nothing a client writes before
 * that element can make it name anyone else.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type http from "node:http";
import { CALLER, CALLER_REJECTED, callerContextValues } from "../../src/callers/caller-context.js";
import { commonNameOf } from "../../src/callers/distinguished-name.js";
import { xfccIdentity } from "../../src/callers/xfcc.js";

const ACCOUNTS = "spiffe://cluster.local/ns/accounts/sa/account-service";
const GATEWAY = "spiffe://cluster.local/ns/edge/sa/gateway";
const HASH = "468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688";
const SIDECAR = `By=spiffe://cluster.local/ns/authn/sa/dynauthn;Hash=${HASH};Subject="";URI=`;

describe("xfccIdentity", () => {
  it("refuses the issue-13 attack: a client's open quote would swallow the sidecar's element", () => {
    // The quote closes at the sidecar's Subject="": what follows cannot follow a quoted value.
    expect(xfccIdentity(`URI=${ACCOUNTS};x=",${SIDECAR}${GATEWAY}`, 1)).toEqual({ rejected: "stray character where ',' was expected" });
    expect(xfccIdentity(`URI=${ACCOUNTS};x=",By=spiffe://a;Hash=${HASH};URI=${GATEWAY}`, 1)).toEqual({ rejected: "unbalanced quote" });
    // Closed by a quote of its own it is still refused: a stray character follows the quoted value.
    expect(xfccIdentity(`URI=${ACCOUNTS};x=",By=a;Subject="CN=x";URI=${GATEWAY}`, 1)).toHaveProperty("rejected");
  });

  it("takes the last element's URI; earlier elements are the client's and are ignored", () => {
    expect(xfccIdentity(`${SIDECAR}${GATEWAY}`, 1)).toEqual({ identity: GATEWAY });
    expect(xfccIdentity(`By=spiffe://a;URI=${ACCOUNTS},${SIDECAR}${GATEWAY}`, 1)).toEqual({ identity: GATEWAY });
  });

  it("with N trusted hops takes the element N from the end, and refuses a header with fewer", () => {
    const header = `URI=spiffe://forged,By=spiffe://gw;Hash=${HASH};URI=${ACCOUNTS},${SIDECAR}spiffe://cluster.local/ns/edge/sa/ingress`;
    expect(xfccIdentity(header, 2)).toEqual({ identity: ACCOUNTS });
    expect(xfccIdentity(`${SIDECAR}${GATEWAY}`, 2)).toEqual({ rejected: "fewer elements than the 2 trusted hops" });
  });

  it("reads keys in any case, a quoted URI verbatim, the first of repeated URIs", () => {
    expect(xfccIdentity(`by=spiffe://a;HASH=${HASH};uri=${GATEWAY}`, 1)).toEqual({ identity: GATEWAY });
    expect(xfccIdentity('By=spiffe://a;URI="spiffe://q/a;b"', 1)).toEqual({ identity: "spiffe://q/a;b" });
    expect(xfccIdentity(`By=spiffe://a;URI=${GATEWAY};URI=${ACCOUNTS};DNS=gw.example;DNS=gw2.example`, 1)).toEqual({ identity: GATEWAY });
  });

  it("falls back to the Subject's CN (escaped commas, quotes and UTF-8 decoded) when the element has no URI", () => {
    expect(xfccIdentity('By=spiffe://a;Subject="CN=billing,O=Acme";URI=', 1)).toEqual({ identity: "billing" });
    expect(xfccIdentity('By=spiffe://a;Subject="CN=billing\\, inc.,O=Acme"', 1)).toEqual({ identity: "billing, inc." });
    expect(xfccIdentity('By=spiffe://a;Subject="O=Acme \\"Ltd\\",CN=b\\C3\\A9a"', 1)).toEqual({ identity: "béa" });
    expect(xfccIdentity('By=spiffe://a;Subject="O=Acme"', 1)).toEqual({ identity: "" });
    expect(xfccIdentity(`By=spiffe://a;Hash=${HASH}`, 1)).toEqual({ identity: "" });
  });

  it("never takes a Subject CN shaped like a URI as that URI's identity (identity break 1)", () => {
    const refused = { rejected: "CN starts with a URI scheme; only a URI SAN names a URI identity" };
    expect(xfccIdentity(`By=spiffe://a;Subject="CN=${ACCOUNTS}";URI=;DNS=billing.svc`, 1)).toEqual(refused);
    expect(xfccIdentity('By=spiffe://a;Subject="O=Acme,CN=https://accounts.example/"', 1)).toEqual(refused);
    // A hex-escaped ':' does not hide the scheme: it is not OpenSSL's rendering, and refused either way.
    expect(xfccIdentity('By=spiffe://a;Subject="CN=spiffe\\3A//x"', 1)).toHaveProperty("rejected");
    expect(xfccIdentity('By=spiffe://a;Subject="CN=billing svc: prod"', 1)).toEqual({ identity: "billing svc: prod" });
  });

  it("refuses a Subject it cannot read as exactly one name with at most one CN", () => {
    for (const subject of ['"CN=a,CN=b"', '"CN=a+CN=b"', '"CN=a,"', '"CN=a;O=b"', '"CN= a"', '"CN=#0c01"', '"garbage"', '"CN=\\zz"', '"CN=\\C3"']) {
      expect(xfccIdentity(`By=spiffe://a;Subject=${subject}`, 1), subject).toHaveProperty("rejected");
    }
    expect(xfccIdentity('By=spiffe://a;Subject="CN=a";Subject="CN=b"', 1)).toEqual({ rejected: "Subject repeated" });
    expect(xfccIdentity("By=spiffe://a;Subject=CN", 1)).toEqual({ rejected: "Subject not quoted" });
  });

  it("refuses whatever is not of the grammar, anywhere in the header", () => {
    const malformed = [
      "garbage",
      "URI",
      "=x",
      'URI=a"b',
      "URI=a b",
      'URI="a\\"',
      'x="a"b,URI=spiffe://gw',
      'x="a" ;URI=spiffe://gw',
      "URI=spiffe://a;;URI=spiffe://b",
      "URI=spiffe://a\\b",
      '{"URI":"spiffe://json"}',
      'By=a;URI="spiffe://a\\\\b"',
    ];
    for (const header of malformed) expect(xfccIdentity(header, 1), header).toHaveProperty("rejected");
  });

  it("ignores empty list elements and optional whitespace around ',' (RFC 9110 lists)", () => {
    expect(xfccIdentity(`,, URI=spiffe://c ,\t${SIDECAR}${GATEWAY}`, 1)).toEqual({ identity: GATEWAY });
    expect(xfccIdentity("", 1)).toHaveProperty("rejected");
  });
});

describe("callerContextValues (xfcc)", () => {
  const read = (rawHeaders: string[], trustedHops?: number) => {
    const values = callerContextValues({ callerIdentity: "xfcc", xfccTrustedHops: trustedHops })({ rawHeaders } as unknown as http.IncomingMessage);
    return { caller: values.get(CALLER), rejected: values.get(CALLER_REJECTED) };
  };

  it("joins repeated header lines in order, whatever their case, before reading the last element", () => {
    expect(read(["X-Forwarded-Client-Cert", `URI=${ACCOUNTS}`, "x-forwarded-client-cert", `${SIDECAR}${GATEWAY}`])).toEqual({ caller: GATEWAY, rejected: "" });
    // An open quote on the client's line still spans into the sidecar's line: refused.
    expect(read(["x-forwarded-client-cert", `URI=${ACCOUNTS};x="`, "X-FORWARDED-CLIENT-CERT", `${SIDECAR}${GATEWAY}`])).toEqual({
      caller: "",
      rejected: "x-forwarded-client-cert: stray character where ',' was expected",
    });
  });

  it("no header is anonymous without a refusal; the trusted hops come from the policy", () => {
    expect(read(["user-agent", "x"])).toEqual({ caller: "", rejected: "" });
    expect(read(["x-forwarded-client-cert", `${SIDECAR}${ACCOUNTS},${SIDECAR}${GATEWAY}`], 2)).toEqual({ caller: ACCOUNTS, rejected: "" });
  });
});

/** RFC 2253 text as OpenSSL renders a subject (XN_FLAG_RFC2253): specials, edges, controls and non-ASCII escaped. */
function rfc2253(rdns: readonly (readonly [string, string])[][]): string {
  const escape = (value: string) =>
    [...Buffer.from(value, "utf8")]
      .map((byte, i, all) => {
        const c = String.fromCharCode(byte);
        if (byte < 0x20 || byte >= 0x7f) return `\\${byte.toString(16).toUpperCase().padStart(2, "0")}`;
        if (',+"\\<>;'.includes(c) || (i === 0 && (c === "#" || c === " ")) || (i === all.length - 1 && c === " ")) return `\\${c}`;
        return c;
      })
      .join("");
  return rdns.map((rdn) => rdn.map(([type, value]) => `${type}=${escape(value)}`).join("+")).join(",");
}

const dnValue = fc.string({ unit: fc.oneof(fc.constantFrom(..." ,+\"\\<>;#=é\u0001"), fc.string({ minLength: 1, maxLength: 1 })), maxLength: 12 });
const otherAttribute = fc.tuple(fc.constantFrom("O", "OU", "C", "L", "2.5.4.10"), dnValue);
const spiffeId = fc.stringMatching(/^spiffe:\/\/[a-z0-9.-]{1,12}(\/[A-Za-z0-9._-]{1,8}){0,4}$/);

/** A sidecar's element as Envoy writes it, and the identity it names. */
const sidecarElement = fc
  .record({
    by: spiffeId,
    uris: fc.array(spiffeId, { maxLength: 3 }),
    cn: fc.option(dnValue, { nil: undefined }),
    others: fc.array(otherAttribute, { maxLength: 3 }),
    subject: fc.boolean(),
    dns: fc.array(fc.stringMatching(/^[a-z0-9.-]{1,12}$/), { maxLength: 2 }),
    cert: fc.boolean(),
  })
  .map(({ by, uris, cn, others, subject, dns, cert }) => {
    const rdns = [...(cn === undefined ? [] : [[["CN", cn] as const]]), ...others.map((a) => [a])];
    const fields = [`By=${by}`, `Hash=${HASH}`];
    if (cert) fields.push('Cert="-----BEGIN%20CERTIFICATE-----%0AMIIB%2Fz%3D%3D%0A-----END%20CERTIFICATE-----%0A"');
    if (subject) fields.push(`Subject="${rfc2253(rdns)}"`);
    fields.push(...(uris.length ? uris.map((u) => `URI=${u}`) : ["URI="]), ...dns.map((d) => `DNS=${d}`));
    const identity = uris[0] ?? (subject && cn !== undefined ? cn : "");
    return { text: fields.join(";"), identity };
  });

/** Anything a client can put before the sidecar's element, weighted towards the grammar's characters. */
const clientPrefix = fc.string({ unit: fc.oneof(fc.constantFrom(..."\"\\,;= \tURI=spiffe://x/aCN"), fc.string({ minLength: 1, maxLength: 1 })), maxLength: 40 });

describe("xfccIdentity properties", () => {
  it("a client prefix never changes the identity the sidecar's element names: that identity or a refusal", () => {
    fc.assert(
      fc.property(clientPrefix, sidecarElement, (prefix, sidecar) => {
        const result = xfccIdentity(`${prefix},${sidecar.text}`, 1);
        if ("identity" in result) expect(result.identity).toBe(sidecar.identity);
      }),
      { numRuns: 5000 },
    );
  });

  it("the same with two trusted hops: the inner proxy's element decides, whatever precedes it", () => {
    fc.assert(
      fc.property(clientPrefix, sidecarElement, sidecarElement, (prefix, inner, outer) => {
        const result = xfccIdentity(`${prefix},${inner.text},${outer.text}`, 2);
        if ("identity" in result) expect(result.identity).toBe(inner.identity);
      }),
      { numRuns: 3000 },
    );
  });

  it("well-formed client elements before the sidecar's are never a reason to refuse", () => {
    fc.assert(
      fc.property(fc.array(sidecarElement, { maxLength: 3 }), sidecarElement, (client, sidecar) => {
        expect(xfccIdentity([...client, sidecar].map((e) => e.text).join(","), 1)).toEqual({ identity: sidecar.identity });
      }),
    );
  });

  it("commonNameOf reads back any CN OpenSSL renders, among any other attributes", () => {
    fc.assert(
      fc.property(dnValue, fc.array(otherAttribute, { maxLength: 3 }), fc.nat(3), (cn, others, at) => {
        const rdns: (readonly [string, string])[][] = others.map((a) => [a]);
        rdns.splice(Math.min(at, rdns.length), 0, [["CN", cn]]);
        expect(commonNameOf(rfc2253(rdns))).toBe(cn);
      }),
    );
  });
});
