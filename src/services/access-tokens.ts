import { errors, jwtVerify, SignJWT } from "jose";

/** The one algorithm accepted: a token naming any other (including "none") fails verification (RFC 8725 §3.1). */
const ALG = "HS256";

export interface AccessTokenOptions {
  readonly secret: string;
  readonly issuer: string;
  readonly audience: string;
  readonly ttlSeconds: number;
}

export interface AccessClaims {
  readonly userId: string;
  readonly sessionId: string;
}

/** Short-lived JWTs. They carry only ids: role and liveness are read from the store on every use. */
export class AccessTokens {
  /**
   * The HMAC key, imported once: given the raw secret, jose imports it into WebCrypto on every call, which was
   * a measurable part of each WebSocket CONNECT in a reconnect storm.
   */
  readonly #key: Promise<CryptoKey>;

  constructor(private readonly opts: AccessTokenOptions) {
    this.#key = crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(opts.secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
  }

  get ttlSeconds(): number {
    return this.opts.ttlSeconds;
  }

  async sign(claims: AccessClaims, nowMs: number): Promise<string> {
    const iat = Math.floor(nowMs / 1000);
    return new SignJWT({ sid: claims.sessionId })
      .setProtectedHeader({ alg: ALG, typ: "JWT" })
      .setSubject(claims.userId)
      .setIssuer(this.opts.issuer)
      .setAudience(this.opts.audience)
      .setIssuedAt(iat)
      .setExpirationTime(iat + this.opts.ttlSeconds)
      .sign(await this.#key);
  }

  /** Null for anything but a well-formed, correctly signed, unexpired token for our issuer and audience. */
  async verify(token: string, nowMs: number): Promise<AccessClaims | null> {
    try {
      const { payload } = await jwtVerify(token, await this.#key, {
        algorithms: [ALG],
        issuer: this.opts.issuer,
        audience: this.opts.audience,
        currentDate: new Date(nowMs),
        requiredClaims: ["sub", "exp", "iat"],
      });
      if (typeof payload.sub !== "string" || typeof payload.sid !== "string") return null;
      return { userId: payload.sub, sessionId: payload.sid };
    } catch (e) {
      if (e instanceof errors.JOSEError || e instanceof TypeError) return null;
      throw e;
    }
  }
}
