import { AppError, Conflict } from "../domain/errors.ts";
import { EMAIL_MAX, EMAIL_PATTERN, PASSWORD_MAX, PASSWORD_MIN, USERNAME_PATTERN } from "../domain/rules.ts";
import { type Session, sessionIsLive } from "../domain/session.ts";
import { type Role, toUser, type User, type UserRecord } from "../domain/user.ts";
import type { AccessClaims, AccessTokens } from "./access-tokens.ts";
import type { ServiceDeps } from "./deps.ts";
import type { LoginThrottle } from "./login-throttle.ts";
import type { Principal } from "./principal.ts";
import { hashRefreshToken, newRefreshToken } from "./refresh-tokens.ts";

export interface ClientInfo {
  readonly ip: string | null;
  readonly userAgent: string | null;
}

export interface TokenPair {
  readonly accessToken: string;
  readonly accessTokenExpiresIn: number;
  readonly refreshToken: string;
  readonly sessionId: string;
}

export interface SignupInput {
  readonly username: string;
  readonly email: string;
  readonly password: string;
  readonly displayName?: string;
}

/** Accounts, sign-in, sessions. Every session change that ends access is announced so open sockets close. */
export class AuthService {
  /** Verifying against this when the login is unknown keeps the response time from telling whether it exists. */
  #dummyHash: Promise<string> | null = null;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly tokens: AccessTokens,
    private readonly throttle: LoginThrottle,
    private readonly refreshTtlSeconds: number,
  ) {}

  async signup(input: SignupInput, client: ClientInfo): Promise<{ user: User; tokens: TokenPair }> {
    const user = await this.createUser(input, "user");
    return { user: toUser(user), tokens: await this.#openSession(user, client) };
  }

  /** Also used by the create-admin command: the same validation and hashing as signup. */
  async createUser(input: SignupInput, role: Role): Promise<UserRecord> {
    checkUsername(input.username);
    checkEmail(input.email);
    checkPassword(input.password, input);
    const { store, ids, clock, hasher } = this.deps;
    try {
      return await store.users.create({
        id: ids.next(),
        username: input.username,
        email: input.email,
        displayName: input.displayName?.trim() || input.username,
        passwordHash: await hasher.hash(input.password),
        role,
        createdAt: clock.now(),
      });
    } catch (e) {
      if (e instanceof Conflict && e.key === "username") throw new AppError("USERNAME_TAKEN");
      if (e instanceof Conflict && e.key === "email") throw new AppError("EMAIL_TAKEN");
      throw e;
    }
  }

  async login(login: string, password: string, client: ClientInfo): Promise<{ user: User; tokens: TokenPair }> {
    await this.throttle.check(login, client.ip);
    const user = await this.deps.store.users.findByLogin(login.trim());
    const ok = await this.deps.hasher.verify(password, user?.passwordHash ?? (await this.#dummy()));
    if (!user || !ok) {
      await this.throttle.failed(login, client.ip);
      throw new AppError("INVALID_CREDENTIALS");
    }
    // Only after the password proved right, so the status does not reveal which accounts exist.
    if (user.status !== "active") throw new AppError("ACCOUNT_DEACTIVATED");
    await this.throttle.succeeded(login);
    return { user: toUser(user), tokens: await this.#openSession(user, client) };
  }

  async refresh(refreshToken: string): Promise<TokenPair> {
    const { store, clock } = this.deps;
    const now = clock.now();
    const next = newRefreshToken();
    const result = await store.sessions.rotate(hashRefreshToken(refreshToken), {
      nextHash: next.hash,
      now,
      expiresAt: now + this.refreshTtlSeconds * 1000,
    });
    if (result.kind === "invalid") throw new AppError("INVALID_REFRESH_TOKEN");
    if (result.kind === "reused") {
      this.#revoked(result.session.userId, [result.session.id]);
      throw new AppError("REFRESH_TOKEN_REUSED");
    }
    const user = await store.users.findById(result.session.userId);
    if (user?.status !== "active") {
      await store.sessions.revoke(result.session.userId, result.session.id, now);
      throw new AppError("ACCOUNT_DEACTIVATED");
    }
    return {
      accessToken: await this.tokens.sign({ userId: user.id, sessionId: result.session.id }, now),
      accessTokenExpiresIn: this.tokens.ttlSeconds,
      refreshToken: next.token,
      sessionId: result.session.id,
    };
  }

  /** Resolves a bearer token to a live principal, or throws UNAUTHENTICATED / SESSION_REVOKED / ACCOUNT_DEACTIVATED. */
  async authenticate(accessToken: string): Promise<Principal> {
    return this.principalOf(await this.verifyAccessToken(accessToken));
  }

  /**
   * The token's user and session if its signature, issuer, audience and expiry check out, else UNAUTHENTICATED.
   * Reads nothing: whether the session and the account are still live is `principalOf`'s to say.
   */
  async verifyAccessToken(accessToken: string): Promise<AccessClaims> {
    const claims = await this.tokens.verify(accessToken, this.deps.clock.now());
    if (!claims) throw new AppError("UNAUTHENTICATED");
    return claims;
  }

  /**
   * The principal of verified claims, as the store has it now: SESSION_REVOKED when the session is unknown, not
   * the token's user's, revoked or expired; ACCOUNT_DEACTIVATED when the account is.
   */
  async principalOf(claims: AccessClaims): Promise<Principal> {
    const { store, clock } = this.deps;
    const now = clock.now();
    // One read: the session with its user's role and status (a session's user is never deleted).
    const found = await store.sessions.findWithAccount(claims.sessionId);
    if (!found || found.session.userId !== claims.userId || !sessionIsLive(found.session, now))
      throw new AppError("SESSION_REVOKED");
    if (found.status !== "active") throw new AppError("ACCOUNT_DEACTIVATED");
    // The claims' own strings, so a connection's claims and principal share them until the principal replaces them.
    return { userId: claims.userId, sessionId: claims.sessionId, role: found.role };
  }

  async logout(p: Principal): Promise<void> {
    await this.deps.store.sessions.revoke(p.userId, p.sessionId, this.deps.clock.now());
    this.#revoked(p.userId, [p.sessionId]);
  }

  /** Ends every other session of the user: whoever knew the old password loses access. */
  async changePassword(p: Principal, currentPassword: string, newPassword: string): Promise<void> {
    const { store, hasher, clock } = this.deps;
    const user = await store.users.findById(p.userId);
    if (!user) throw new AppError("UNAUTHENTICATED");
    if (!(await hasher.verify(currentPassword, user.passwordHash))) throw new AppError("WRONG_PASSWORD");
    checkPassword(newPassword, user);
    await store.users.update(user.id, { passwordHash: await hasher.hash(newPassword) });
    const revoked = await store.sessions.revokeAll(user.id, clock.now(), p.sessionId);
    if (revoked.length > 0) this.#revoked(user.id, revoked);
  }

  listSessions(p: Principal): Promise<Session[]> {
    return this.deps.store.sessions.listLive(p.userId, this.deps.clock.now());
  }

  async revokeSession(p: Principal, sessionId: string): Promise<void> {
    const ok = await this.deps.store.sessions.revoke(p.userId, sessionId, this.deps.clock.now());
    if (!ok) throw new AppError("SESSION_NOT_FOUND");
    this.#revoked(p.userId, [sessionId]);
  }

  async #openSession(user: UserRecord, client: ClientInfo): Promise<TokenPair> {
    const { store, ids, clock } = this.deps;
    const now = clock.now();
    const refresh = newRefreshToken();
    const session = await store.sessions.create({
      id: ids.next(),
      userId: user.id,
      refreshTokenHash: refresh.hash,
      createdAt: now,
      expiresAt: now + this.refreshTtlSeconds * 1000,
      userAgent: client.userAgent?.slice(0, 256) ?? null,
      ip: client.ip,
    });
    return {
      accessToken: await this.tokens.sign({ userId: user.id, sessionId: session.id }, now),
      accessTokenExpiresIn: this.tokens.ttlSeconds,
      refreshToken: refresh.token,
      sessionId: session.id,
    };
  }

  #dummy(): Promise<string> {
    this.#dummyHash ??= this.deps.hasher.hash("parley-dummy-password");
    return this.#dummyHash;
  }

  #revoked(userId: string, sessionIds: readonly string[] | "all"): void {
    this.deps.events.emit({ kind: "sessions.revoked", userId, sessionIds });
  }
}

function checkUsername(username: string): void {
  if (!USERNAME_PATTERN.test(username)) {
    throw new AppError("VALIDATION_FAILED", "Username must be 3–32 letters, digits, '.', '_' or '-', starting with a letter or digit.", {
      details: [{ path: "username", message: "invalid username" }],
    });
  }
}

function checkEmail(email: string): void {
  if (email.length > EMAIL_MAX || !EMAIL_PATTERN.test(email)) {
    throw new AppError("VALIDATION_FAILED", "Email address is not valid.", {
      details: [{ path: "email", message: "invalid email" }],
    });
  }
}

function checkPassword(password: string, user: { readonly username: string; readonly email: string }): void {
  const len = [...password].length;
  if (len < PASSWORD_MIN || len > PASSWORD_MAX) {
    throw new AppError("WEAK_PASSWORD", `Password must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters.`);
  }
  if (password.trim().length === 0) throw new AppError("WEAK_PASSWORD", "Password must not be only spaces.");
  const lower = password.toLowerCase();
  if (lower === user.username.toLowerCase() || lower === user.email.toLowerCase()) {
    throw new AppError("WEAK_PASSWORD", "Password must differ from the username and the email.");
  }
}
