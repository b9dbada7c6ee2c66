import { AppError } from "../domain/errors.ts";
import type { RateLimiter } from "../ports/rate-limiter.ts";

export interface LoginThrottleOptions {
  readonly maxFailuresPerAccount: number;
  readonly maxFailuresPerAddress: number;
  readonly windowSeconds: number;
}

/**
 * Counts failed logins per login name and per client address over a fixed window. Only failures count, so a
 * user who types the right password is never slowed; an attacker hammering one account blocks that account's
 * logins for the window but nobody else's, and one address cannot spray many accounts.
 * The account key is the login as typed (normalised), so unknown logins are throttled like known ones and
 * the 429 reveals nothing about which accounts exist.
 */
export class LoginThrottle {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly opts: LoginThrottleOptions,
  ) {}

  #keys(login: string, ip: string | null): { account: string; address: string | null } {
    return { account: `login:acct:${login.trim().toLowerCase()}`, address: ip === null ? null : `login:ip:${ip}` };
  }

  /** Throws LOGIN_THROTTLED (with Retry-After) if either counter is at its limit. */
  async check(login: string, ip: string | null): Promise<void> {
    const k = this.#keys(login, ip);
    const acct = await this.limiter.peek(k.account);
    if (acct.count >= this.opts.maxFailuresPerAccount) throw throttled(acct.resetInMs);
    if (k.address !== null) {
      const addr = await this.limiter.peek(k.address);
      if (addr.count >= this.opts.maxFailuresPerAddress) throw throttled(addr.resetInMs);
    }
  }

  async failed(login: string, ip: string | null): Promise<void> {
    const k = this.#keys(login, ip);
    const windowMs = this.opts.windowSeconds * 1000;
    await this.limiter.hit(k.account, windowMs);
    if (k.address !== null) await this.limiter.hit(k.address, windowMs);
  }

  /** A success clears the account's counter (not the address's: one good account must not launder a spray). */
  async succeeded(login: string): Promise<void> {
    await this.limiter.reset(this.#keys(login, null).account);
  }
}

function throttled(resetInMs: number): AppError {
  return new AppError("LOGIN_THROTTLED", "Too many failed logins; try again later.", {
    retryAfter: Math.max(1, Math.ceil(resetInMs / 1000)),
  });
}
