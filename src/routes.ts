import type { ConnectRouter } from "@connectrpc/connect";
import { AuthService, file_authn_v1_auth_service } from "./gen/authn/v1/auth_service_pb.js";
import { authenticationHandlers } from "./rpc/authentication.js";
import { credentialHandlers } from "./rpc/credentials.js";
import { type HealthState, healthRoutes } from "./rpc/health.js";
import { reflectionRoutes } from "./rpc/reflection.js";
import { type CeremonyHandlersDeps, registrationHandlers } from "./rpc/registration.js";

/** The one place services are wired to the router. */
export function routes(deps: CeremonyHandlersDeps, health: HealthState): (router: ConnectRouter) => void {
  const health_ = healthRoutes(health);
  const reflection = reflectionRoutes([file_authn_v1_auth_service]);
  return (router) => {
    router.service(AuthService, {
      ...registrationHandlers(deps),
      ...authenticationHandlers(deps),
      ...credentialHandlers(deps),
    });
    health_(router);
    reflection(router);
  };
}
