import type { ExtAuthzClientIp } from "./ext-authz-client-ip.js";

/** Step-up settings, from the environment (config.ts) or a test (app.ts). */
export interface StepUpSettings {
  readonly grantTtlSeconds: number;
  readonly evidenceHeader: string;
  readonly extAuthzClientIp: ExtAuthzClientIp;
}

/** Step-up settings' defaults, shared by config.ts (environment) and app.ts (tests). */
export const STEP_UP_DEFAULTS: StepUpSettings = Object.freeze({
  /** Step-up grants live 5 minutes: long enough to retry a request, short enough to not matter if leaked. */
  grantTtlSeconds: 300,
  /** The request header in which a client sends a step-up grant or assertion through Envoy. */
  evidenceHeader: "x-dynauthn-step-up",
  /** The end user's address is the one Envoy's own connection came from: nothing a client sends. */
  extAuthzClientIp: Object.freeze({ from: "source", xffTrustedHops: 1 }),
});
