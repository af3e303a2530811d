import { pino, type Logger } from "pino";

/**
 * Structured JSON logs. Redaction is a second line of defence: no code logs request bodies, but a
 * stray object with one of these keys never prints its value.
 */
const REDACT = [
  "sessionToken",
  "session_token",
  "credentialJson",
  "credential_json",
  "privateKey",
  "authorization",
  "*.sessionToken",
  "*.credentialJson",
  "*.privateKey",
  "*.authorization",
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: { service: "dynauthn" }, redact: { paths: REDACT, censor: "[redacted]" } }, destination);
}
