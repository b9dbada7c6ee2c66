import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { nextAfter } from "../../domain/paging.ts";
import { PAGE_DEFAULT } from "../../domain/rules.ts";
import { bearerAuth, principalOf } from "../auth-middleware.ts";
import type { AppEnv } from "../env.ts";
import { AUTH_ERRORS, errorResponses, IdPageQuerySchema, IdSchema, jsonContent } from "../schemas/common.ts";
import { ROOM_PATH_ERRORS, RoomIdParamSchema } from "../schemas/rooms.ts";

/** Who is online in a room, across processes (the real-time gateway's presence tracking). */
export interface RoomPresence {
  /** One page: at most `limit` user ids above `after`, ascending. */
  online(roomId: string, after: string | null, limit: number): Promise<string[]>;
  /** How many `online` would list, without listing them. */
  onlineCount(roomId: string): Promise<number>;
}

const PresenceSchema = z
  .object({
    online: z.array(z.string()).openapi({ description: "User ids, ascending." }),
    nextAfter: IdSchema.nullable().openapi({
      description: "Cursor for the next page; null on the last page.",
    }),
  })
  .openapi("RoomPresence");

const PresenceCountSchema = z
  .object({ count: z.number().int().nonnegative().openapi({ description: "Users online in the room." }) })
  .openapi("RoomPresenceCount");

const getPresenceCount = createRoute({
  method: "get",
  path: "/api/v1/rooms/{roomId}/presence/count",
  tags: ["rooms"],
  ...bearerAuth(),
  summary: "How many members are online in the room",
  description:
    "The number of users GET /api/v1/rooms/{roomId}/presence would list. For a large room, whose processes send no presence events (PARLEY_PRESENCE_EVENTS_MAX_SUBSCRIBERS), this is the cheap way to show who is there.",
  request: { params: RoomIdParamSchema },
  responses: {
    200: jsonContent(PresenceCountSchema, "How many are online."),
    ...errorResponses(...AUTH_ERRORS, ...ROOM_PATH_ERRORS),
  },
});

const getPresence = createRoute({
  method: "get",
  path: "/api/v1/rooms/{roomId}/presence",
  tags: ["rooms"],
  ...bearerAuth(),
  summary: "Members online in the room",
  description:
    "Users with a live real-time subscription to the room on any process, a page at a time in id order (a large room has tens of thousands). Entries of a process that died expire after PARLEY_PRESENCE_TTL_MS. Reading page after page lists every user online throughout exactly once; one who comes or goes meanwhile may be missed.",
  request: { params: RoomIdParamSchema, query: IdPageQuerySchema },
  responses: {
    200: jsonContent(PresenceSchema, "Who is online."),
    ...errorResponses(...AUTH_ERRORS, ...ROOM_PATH_ERRORS, "VALIDATION_FAILED", "INVALID_CURSOR"),
  },
});

/** Members only; anyone else gets ROOM_NOT_FOUND, as for every room route. */
export function registerPresenceRoutes(app: OpenAPIHono<AppEnv>, presence: RoomPresence): void {
  app.openapi(getPresence, async (c) => {
    const { roomId } = c.req.valid("param");
    const { after, limit = PAGE_DEFAULT } = c.req.valid("query");
    await c.var.services.rooms.requireMember(principalOf(c), roomId);
    const online = await presence.online(roomId, after ?? null, limit);
    return c.json({ online, nextAfter: nextAfter(online, limit, (id) => id) }, 200);
  });
  app.openapi(getPresenceCount, async (c) => {
    const { roomId } = c.req.valid("param");
    await c.var.services.rooms.requireMember(principalOf(c), roomId);
    return c.json({ count: await presence.onlineCount(roomId) }, 200);
  });
}
