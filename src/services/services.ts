import { AccessTokens } from "./access-tokens.ts";
import { AuthService } from "./auth-service.ts";
import type { ServiceDeps, ServicePolicy } from "./deps.ts";
import { LoginThrottle } from "./login-throttle.ts";
import { MessageService } from "./message-service.ts";
import { RoomService } from "./room-service.ts";
import { UserService } from "./user-service.ts";

/** Every use case, wired once per process; the HTTP and STOMP front ends share this one set. */
export interface Services {
  readonly deps: ServiceDeps;
  readonly auth: AuthService;
  readonly users: UserService;
  readonly rooms: RoomService;
  readonly messages: MessageService;
}

export function createServices(deps: ServiceDeps, policy: ServicePolicy): Services {
  const tokens = new AccessTokens({
    secret: policy.jwtSecret,
    issuer: policy.jwtIssuer,
    audience: policy.jwtAudience,
    ttlSeconds: policy.accessTokenTtlSeconds,
  });
  const throttle = new LoginThrottle(deps.limiter, {
    maxFailuresPerAccount: policy.loginMaxFailures,
    maxFailuresPerAddress: policy.loginIpMaxFailures,
    windowSeconds: policy.loginWindowSeconds,
  });
  const rooms = new RoomService(deps);
  return {
    deps,
    auth: new AuthService(deps, tokens, throttle, policy.refreshTokenTtlSeconds),
    users: new UserService(deps),
    rooms,
    messages: new MessageService(deps, rooms, {
      maxLength: policy.messageMaxLength,
      roomSendRate: policy.roomSendRate,
      roomSendBurst: policy.roomSendBurst,
    }),
  };
}
