/** Step-up settings' defaults, shared by config.ts (environment) and app.ts (tests). */
export const STEP_UP_DEFAULTS = Object.freeze({
  /** Step-up grants live 5 minutes: long enough to retry a request, short enough to not matter if leaked. */
  grantTtlSeconds: 300,
  /** The request header in which a client sends a step-up grant or assertion through Envoy. */
  evidenceHeader: "x-dynauthn-step-up",
});
