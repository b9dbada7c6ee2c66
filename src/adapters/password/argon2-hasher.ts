import type { PasswordHasher } from "../../ports/password-hasher.ts";

export interface Argon2Params {
  /** KiB. OWASP's minimum for argon2id: 19 MiB with 2 iterations and parallelism 1. */
  readonly memoryCost: number;
  readonly timeCost: number;
}

export const OWASP_ARGON2ID: Argon2Params = { memoryCost: 19_456, timeCost: 2 };

/** argon2id through Bun's native implementation (no native addon to build). Output is a PHC string. */
export function argon2Hasher(params: Argon2Params = OWASP_ARGON2ID): PasswordHasher {
  return {
    hash: (password) =>
      Bun.password.hash(password, { algorithm: "argon2id", memoryCost: params.memoryCost, timeCost: params.timeCost }),
    async verify(password, hash) {
      try {
        return await Bun.password.verify(password, hash);
      } catch {
        return false;
      }
    },
  };
}
