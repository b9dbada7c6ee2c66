import type { OpenAPIHono } from "@hono/zod-openapi";
import { AppError } from "../../domain/errors.ts";
import { ID_PATTERN } from "../../domain/rules.ts";
import { principalOf, requireAuth } from "../auth-middleware.ts";
import type { AppEnv } from "../env.ts";

/** Who is online in a room, across processes (the real-time gateway's presence tracking). */
export interface RoomPresence {
  online(roomId: string): Promise<string[]>;
}

/**
 * `GET /api/v1/rooms/{roomId}/presence` → `{"online": [userIds]}` (ascending): users with a live subscription
 * to the room on any process. Members only; anyone else gets ROOM_NOT_FOUND, as for every room route.
 */
export function registerPresenceRoutes(app: OpenAPIHono<AppEnv>, presence: RoomPresence): void {
  app.get("/api/v1/rooms/:roomId/presence", requireAuth, async (c) => {
    const roomId = c.req.param("roomId");
    if (!ID_PATTERN.test(roomId)) throw new AppError("INVALID_ID");
    await c.var.services.rooms.requireMember(principalOf(c), roomId);
    return c.json({ online: await presence.online(roomId) }, 200);
  });
}
