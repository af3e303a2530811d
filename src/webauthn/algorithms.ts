/**
 * COSE algorithms offered in pubKeyCredParams and accepted at verification: the same list for
 * both, in preference order (EdDSA, ES256, RS256, then ES384, ES512, PS256).
 * @simplewebauthn/server verifies only [-8, -7, -257] unless told otherwise.
 */
export const SUPPORTED_ALGORITHMS: readonly number[] = Object.freeze([-8, -7, -257, -35, -36, -37]);
