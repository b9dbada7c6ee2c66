import type { Redis } from "ioredis";

/** Closes politely (QUIT lets pending replies arrive) when the connection is up, else drops it at once. */
export async function quitRedis(redis: Redis): Promise<void> {
  if (redis.status === "ready") {
    try {
      await redis.quit();
      return;
    } catch {
      // Fall through to a hard disconnect.
    }
  }
  redis.disconnect();
}
