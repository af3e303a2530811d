import ipaddr from "ipaddr.js";
import { describe, expect, it } from "vitest";
import { ipOrEmpty } from "../../src/step-up/ext-authz-client-ip.js";

/** What ipOrEmpty must keep answering: ipaddr's own four-part IPv4 test, or its IPv6 test. */
const byLibrary = (text: string) => (ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv6.isValid(text) ? text : "");

describe("ext_authz client address (ipOrEmpty)", () => {
  const inputs = [
    "", " ", "203.0.113.7", " 203.0.113.7 ", "0.0.0.0", "255.255.255.255", "256.1.1.1", "1.2.3.999", "01.2.3.4", "1.2.3",
    "1.2.3.4.5", "127.1", "0x7f.0.0.1", "1.2.3.4:8080", "1.2.3.4/24", "1.2.3.-4", "١.٢.٣.٤", "2001:db8::1", "::1", "::",
    "::ffff:192.0.2.1", "fe80::1%eth0", "[2001:db8::1]", "[2001:db8::1]:443", "2001:db8::g", "2001:db8:::1", ":", "unknown",
    "1.2.3.4, 5.6.7.8", "9".repeat(300), `${"1.".repeat(100)}1`,
  ];
  it.each(inputs)("answers %j as ipaddr's isValidFourPartDecimal || IPv6.isValid do", (input) => {
    expect(ipOrEmpty(input)).toBe(byLibrary(input.trim()));
  });
  it("keeps a dotted quad and an IPv6 address, refuses the rest", () => {
    expect(ipOrEmpty(" 192.0.2.1")).toBe("192.0.2.1");
    expect(ipOrEmpty("2001:db8::1")).toBe("2001:db8::1");
    expect(ipOrEmpty("127.1")).toBe("");
    expect(ipOrEmpty("192.0.2.1:80")).toBe("");
  });
});
