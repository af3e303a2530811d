import ipaddr from "ipaddr.js";

/**
 * The per-IP limit's key for a client IP as the calling backend reports it. An IPv6 end user
 * usually holds a whole /64, so every address in one /64 shares a key; an IPv4-mapped IPv6
 * address is its IPv4 address. A value that is no IP (the field is free text of at most 64
 * bytes) is its own key. Empty (not reported): no key, the per-IP limit does not apply.
 */
export function clientIpKey(clientIp: string): string | undefined {
  const text = clientIp.trim();
  if (!text) return undefined;
  if (!ipaddr.isValid(text)) return text;
  const address = ipaddr.process(text); // IPv4-mapped IPv6 → IPv4
  if (address.kind() === "ipv4") return address.toString();
  return `${address.toNormalizedString().split(":").slice(0, 4).join(":")}::/64`;
}
