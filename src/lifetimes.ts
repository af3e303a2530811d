/**
 * The longest lifetimes any configuration may give (the environment's and the tenants file's
 * schemas allow no more). What must outlive every token or challenge still in flight is bounded
 * by these, not by today's settings: a reload or a restart may shorten a lifetime, never the
 * tokens and challenges already issued under the longer one.
 */
export const MAX_SESSION_TTL_SECONDS = 30 * 86_400;
export const MAX_GRANT_TTL_SECONDS = 3600;
export const MAX_CHALLENGE_TTL_SECONDS = 3600;

/** How long any token (session or grant) a key signed can still be live after the key stopped signing. */
export const TOKEN_RETENTION_MS = Math.max(MAX_SESSION_TTL_SECONDS, MAX_GRANT_TTL_SECONDS) * 1000;

/** How long any challenge a key sealed can still be finished after the key stopped sealing. */
export const CHALLENGE_RETENTION_MS = MAX_CHALLENGE_TTL_SECONDS * 1000;
