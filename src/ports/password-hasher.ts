/** Password hashing. Production uses argon2id with OWASP parameters; hashes are self-describing PHC strings. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Constant-time with respect to the password; false (never an exception) for a malformed hash. */
  verify(password: string, hash: string): Promise<boolean>;
}
