import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { BrowserSignal, Credential } from "../src/gen/authn/v1/auth_service_pb.js";

// What the page is shown of dynauthn's answers: passkeys, and the browser signals to pass on.

/** A data: URI of an image, the only icon form the page shows (as <img src>, never as markup). */
const IMAGE_DATA_URI = /^data:image\/(png|svg\+xml|webp|jpeg);base64,[A-Za-z0-9+/]+={0,2}$/;

/** What the page shows of a passkey. */
export function passkeyView(c: Credential) {
  const iso = (t: Timestamp | undefined) => (t ? timestampDate(t).toISOString() : null);
  const icon = (uri: string) => (IMAGE_DATA_URI.test(uri) ? uri : null);
  return {
    id: c.credentialId,
    name: c.name,
    transports: c.transports,
    userVerified: c.userVerified,
    backupEligible: c.backupEligible,
    createdAt: iso(c.createdAt),
    lastUsedAt: iso(c.lastUsedAt),
    revokedAt: iso(c.revokedAt),
    provider: { name: c.providerName, iconLight: icon(c.providerIconLight), iconDark: icon(c.providerIconDark) },
    discoverable: c.discoverable ?? null,
    prfEnabled: c.prfEnabled ?? null,
    largeBlobSupported: c.largeBlobSupported ?? null,
    createdConditionally: c.createdConditionally,
  };
}

/** A browser signal for the page to pass on: `PublicKeyCredential[method]?.(JSON.parse(optionsJson))`. */
export function signalView(signal: BrowserSignal | undefined) {
  return signal ? { method: signal.method, optionsJson: signal.optionsJson } : null;
}
