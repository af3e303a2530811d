/**
 * Provider icons end up in account pages, so only inline images pass: a `data:` URI of a
 * base64 PNG or SVG, bounded in size. Any other scheme (https: would let the icon's host see
 * who opens the page; javascript: runs) and any other media type are dropped. SVG is accepted
 * because the community AAGUID list publishes SVG only; an SVG can carry script, which browsers
 * run neither in `<img>` nor in CSS backgrounds, so pages must show icons only that way
 * (docs/level3.md, docs/security.md).
 */

/** An icon's data: URI, in characters; ListCredentials carries one per credential. */
export const MAX_PROVIDER_ICON_CHARS = 64 * 1024;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** What the decoded image must look like for its media type; undefined when it does. */
const CONTENT_CHECKS: Readonly<Record<string, (image: Buffer) => string | undefined>> = {
  "data:image/png;base64,": (image) => (image.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE) ? undefined : "not a PNG image"),
  "data:image/svg+xml;base64,": (image) => {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(image).includes("<svg") ? undefined : "not an SVG image";
    } catch {
      return "SVG image is not UTF-8";
    }
  },
};

/** Why `uri` is not an icon the service passes on; undefined when it is one. */
export function providerIconProblem(uri: string): string | undefined {
  if (uri.length > MAX_PROVIDER_ICON_CHARS) return `icon is longer than ${MAX_PROVIDER_ICON_CHARS} characters`;
  const prefix = Object.keys(CONTENT_CHECKS).find((p) => uri.startsWith(p));
  if (prefix === undefined) return "icon is not a base64 data:image/png or data:image/svg+xml URI";
  const base64 = uri.slice(prefix.length);
  const image = Buffer.from(base64, "base64");
  // Buffer skips characters outside the alphabet; only canonical base64 survives the round trip.
  if (image.length === 0 || image.toString("base64") !== base64) return "icon is not canonical base64";
  return CONTENT_CHECKS[prefix]!(image);
}
