import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import { AuthService, file_authn_v1_auth_service } from "../gen/authn/v1/auth_service_pb.js";
import { Authorization, file_envoy_service_auth_v3_external_auth } from "../gen/envoy/service/auth/v3/external_auth_pb.js";
import { auditHandlers } from "./audit.js";
import { authenticationHandlers } from "./authentication.js";
import { credentialHandlers } from "./credentials.js";
import { extAuthzHandlers } from "./ext-authz.js";
import { type HealthState, healthRoutes } from "./health.js";
import { reflectionRoutes } from "./reflection.js";
import type { CeremonyHandlersDeps, StepUpHandlersDeps } from "./deps.js";
import { registrationHandlers } from "./registration.js";
import { sessionHandlers } from "./sessions.js";
import { stepUpHandlers } from "./step-up.js";
import { wellKnownHandlers } from "./well-known.js";

/** The one place services are wired to the router. */
export function routes(
  deps: CeremonyHandlersDeps,
  health: HealthState,
  stepUp: StepUpHandlersDeps,
): (router: ConnectRouter) => void {
  const health_ = healthRoutes(health);
  const reflection = reflectionRoutes([file_authn_v1_auth_service, file_envoy_service_auth_v3_external_auth]);
  return (router) => {
    // `satisfies` the full ServiceImpl: an RPC without a handler does not compile.
    router.service(AuthService, {
      ...registrationHandlers(deps),
      ...authenticationHandlers(deps),
      ...credentialHandlers(deps),
      ...auditHandlers(deps),
      ...sessionHandlers(deps),
      ...stepUpHandlers(stepUp),
      ...wellKnownHandlers(deps),
    } satisfies ServiceImpl<typeof AuthService>);
    router.service(Authorization, extAuthzHandlers(stepUp) satisfies ServiceImpl<typeof Authorization>);
    health_(router);
    reflection(router);
  };
}
