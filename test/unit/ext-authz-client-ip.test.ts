import ipaddr from "ipaddr.js";
import { describe, expect, it } from "vitest";
import { extAuthzClientIp } from "../../src/step-up/ext-authz-client-ip.js";

/** What the address check must keep answering: ipaddr's own four-part IPv4 test, or its IPv6 test. */
const byLibrary = (text: string) => (ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv6.isValid(text) ? text : "");

/** The address as each setting reads it: the socket address, and the edge Envoy's header. */
const fromSource = (address: string) => extAuthzClientIp({ from: "source", xffTrustedHops: 1 }, address, new Map());
const fromHeader = (value: string) =>
  extAuthzClientIp({ from: "x-envoy-external-address", xffTrustedHops: 1 }, "", new Map([["x-envoy-external-address", value]]));

describe("ext_authz client address", () => {
  const inputs = [
    "", " ", "203.0.113.7", " 203.0.113.7 ", "0.0.0.0", "255.255.255.255", "256.1.1.1", "1.2.3.999", "01.2.3.4", "1.2.3",
    "1.2.3.4.5", "127.1", "0x7f.0.0.1", "1.2.3.4:8080", "1.2.3.4/24", "1.2.3.-4", "١.٢.٣.٤", "2001:db8::1", "::1", "::",
    "::ffff:192.0.2.1", "fe80::1%eth0", "[2001:db8::1]", "[2001:db8::1]:443", "2001:db8::g", "2001:db8:::1", ":", "unknown",
    "1.2.3.4, 5.6.7.8", "9".repeat(300), `${"1.".repeat(100)}1`,
  ];
  it.each(inputs)("answers %j as ipaddr's isValidFourPartDecimal || IPv6.isValid do", (input) => {
    expect(fromSource(input)).toBe(byLibrary(input.trim()));
    expect(fromHeader(input)).toBe(byLibrary(input.trim()));
  });
  it("keeps a dotted quad and an IPv6 address, refuses the rest", () => {
    expect(fromSource(" 192.0.2.1")).toBe("192.0.2.1");
    expect(fromHeader("2001:db8::1")).toBe("2001:db8::1");
    expect(fromSource("127.1")).toBe("");
    expect(fromHeader("192.0.2.1:80")).toBe("");
  });
});
