import { MAX_CREDENTIAL_JSON_BYTES } from "../webauthn/credential-json.js";

/** gRPC/Connect messages above this are refused by the transport before any handler runs. */
export const DEFAULT_MAX_REQUEST_BYTES = 256 * 1024;

/** A request must still hold the largest credential JSON accepted plus its other fields. */
export const MIN_REQUEST_BYTES = MAX_CREDENTIAL_JSON_BYTES + 16 * 1024;
