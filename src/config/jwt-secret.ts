import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * The configured secret, or else one generated once and kept in the data directory so tokens survive restarts.
 * Creation is exclusive (`wx`): two processes starting together on one data directory end up with the same key.
 */
export async function resolveJwtSecret(configured: string, dataDir: string): Promise<string> {
  if (configured !== "") return configured;
  const file = join(dataDir, "jwt-secret");
  await mkdir(dataDir, { recursive: true });
  try {
    await writeFile(file, randomBytes(48).toString("base64url"), { flag: "wx", mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  await chmod(file, 0o600);
  const secret = (await readFile(file, "utf8")).trim();
  if (secret.length < 32)
    throw new Error(`${file} holds a secret shorter than 32 characters; delete it or set PARLEY_JWT_SECRET`);
  return secret;
}
