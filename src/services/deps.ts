import type { Clock } from "../ports/clock.ts";
import type { DomainEvents } from "../ports/domain-events.ts";
import type { IdGenerator } from "../ports/ids.ts";
import type { ServiceMetrics } from "../ports/metrics.ts";
import type { PasswordHasher } from "../ports/password-hasher.ts";
import type { RateLimiter, TokenBucket } from "../ports/rate-limiter.ts";
import type { Store } from "../ports/store.ts";

/** What the use cases need from the outside world; main.ts picks the adapters, tests pick their own. */
export interface ServiceDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly hasher: PasswordHasher;
  readonly limiter: RateLimiter;
  /** Per-room send caps; shared by every process when it is the Redis adapter. */
  readonly buckets: TokenBucket;
  readonly events: DomainEvents;
  /** Where the use cases report timings; absent when nothing collects them (metrics off, admin commands). */
  readonly metrics?: ServiceMetrics;
}

/** Policy values the use cases need, taken from the validated config. */
export interface ServicePolicy {
  readonly jwtSecret: string;
  readonly jwtIssuer: string;
  readonly jwtAudience: string;
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  readonly messageMaxLength: number;
  /** Messages per second a room accepts from all senders together; 0 = no cap. */
  readonly roomSendRate: number;
  readonly roomSendBurst: number;
  readonly loginMaxFailures: number;
  readonly loginIpMaxFailures: number;
  readonly loginWindowSeconds: number;
}
