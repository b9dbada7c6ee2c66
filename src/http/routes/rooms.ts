import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { PAGE_DEFAULT } from "../../domain/rules.ts";
import { ROOM_DETAILS_MEMBERS } from "../../services/room-service.ts";
import { bearerAuth, principalOf } from "../auth-middleware.ts";
import type { AppEnv } from "../env.ts";
import { jsonBody } from "../json-body.ts";
import {
  AUTH_ERRORS,
  BODY_ERRORS,
  errorResponses,
  IdPageQuerySchema,
  jsonContent,
  jsonRequest,
} from "../schemas/common.ts";
import {
  CreateRoomBodySchema,
  MemberPageSchema,
  MemberParamsSchema,
  MembershipSchema,
  ReadBodySchema,
  ReadResultSchema,
  ROOM_PATH_ERRORS,
  RoomDetailsSchema,
  RoomEnvelopeSchema,
  RoomIdParamSchema,
  RoomListSchema,
  toMemberPageWire,
  toMembershipWire,
  toRoomDetailsWire,
  toRoomSummaryWire,
  toRoomWire,
  UpdateRoomBodySchema,
  UserIdBodySchema,
} from "../schemas/rooms.ts";

const tags = ["rooms"];
/** Changing a room's details or members is for its owner or an administrator; other members are FORBIDDEN. */
const MANAGE_ROOM_ERRORS = [...ROOM_PATH_ERRORS, "FORBIDDEN"] as const;

const listRooms = createRoute({
  method: "get",
  path: "/api/v1/rooms",
  tags,
  ...bearerAuth(),
  summary: "The caller's rooms with last message and unread count",
  responses: {
    200: jsonContent(RoomListSchema, "Most recent activity first."),
    ...errorResponses(...AUTH_ERRORS),
  },
});

const createRoom = createRoute({
  method: "post",
  path: "/api/v1/rooms",
  tags,
  ...bearerAuth(jsonBody),
  summary: "Create a group room owned by the caller",
  request: { body: jsonRequest(CreateRoomBodySchema) },
  responses: {
    201: jsonContent(RoomEnvelopeSchema, "The new room."),
    ...errorResponses(...AUTH_ERRORS, ...BODY_ERRORS, "USER_NOT_FOUND"),
  },
});

const openDm = createRoute({
  method: "post",
  path: "/api/v1/dms",
  tags,
  ...bearerAuth(jsonBody),
  summary: "Get or create the direct conversation with a user",
  description: "201 when this call created it, 200 when it existed. Concurrent first calls yield one room.",
  request: { body: jsonRequest(UserIdBodySchema) },
  responses: {
    200: jsonContent(RoomEnvelopeSchema, "The existing conversation."),
    201: jsonContent(RoomEnvelopeSchema, "The conversation, created now."),
    ...errorResponses(...AUTH_ERRORS, ...BODY_ERRORS, "USER_NOT_FOUND", "INVALID_OPERATION"),
  },
});

const getRoom = createRoute({
  method: "get",
  path: "/api/v1/rooms/{roomId}",
  tags,
  ...bearerAuth(),
  summary: "A room with its first members",
  description: `The room, the caller's role, and its first ${ROOM_DETAILS_MEMBERS} members by user id; \`membersNextAfter\` says where GET /api/v1/rooms/{roomId}/members continues when there are more.`,
  request: { params: RoomIdParamSchema },
  responses: {
    200: jsonContent(RoomDetailsSchema, "The room."),
    ...errorResponses(...AUTH_ERRORS, ...ROOM_PATH_ERRORS),
  },
});

const updateRoom = createRoute({
  method: "patch",
  path: "/api/v1/rooms/{roomId}",
  tags,
  ...bearerAuth(jsonBody),
  summary: "Rename a group room or change its topic (owner or administrator)",
  description:
    "Raises the room's `version` by one, also when the details stay as they were. Announced after commit as " +
    "`room.updated` (the room's new details with that version) on the room's STOMP destination and on its " +
    "members' /user/queue/notifications; see docs/asyncapi.yaml.",
  request: { params: RoomIdParamSchema, body: jsonRequest(UpdateRoomBodySchema) },
  responses: {
    200: jsonContent(RoomEnvelopeSchema, "The updated room."),
    ...errorResponses(...AUTH_ERRORS, ...BODY_ERRORS, ...MANAGE_ROOM_ERRORS, "INVALID_OPERATION"),
  },
});

const listMembers = createRoute({
  method: "get",
  path: "/api/v1/rooms/{roomId}/members",
  tags,
  ...bearerAuth(),
  summary: "The room's members, a page at a time",
  description:
    "Members with their roles and public profiles, in user id order. Reading page after page lists every member who stays a member throughout exactly once; one who joins or leaves meanwhile may be missed.",
  request: { params: RoomIdParamSchema, query: IdPageQuerySchema },
  responses: {
    200: jsonContent(MemberPageSchema, "One page of members."),
    ...errorResponses(...AUTH_ERRORS, ...ROOM_PATH_ERRORS, "VALIDATION_FAILED", "INVALID_CURSOR"),
  },
});

const addMember = createRoute({
  method: "post",
  path: "/api/v1/rooms/{roomId}/members",
  tags,
  ...bearerAuth(jsonBody),
  summary: "Add a member (owner or administrator)",
  request: { params: RoomIdParamSchema, body: jsonRequest(UserIdBodySchema) },
  responses: {
    201: jsonContent(MembershipSchema, "The new membership."),
    ...errorResponses(
      ...AUTH_ERRORS,
      ...BODY_ERRORS,
      ...MANAGE_ROOM_ERRORS,
      "USER_NOT_FOUND",
      "ALREADY_MEMBER",
      "INVALID_OPERATION",
    ),
  },
});

const transferOwnership = createRoute({
  method: "post",
  path: "/api/v1/rooms/{roomId}/owner",
  tags,
  ...bearerAuth(jsonBody),
  summary: "Transfer ownership to another member (owner or administrator)",
  description:
    "The new owner must be an active member of the room. The previous owner stays as a plain member and may then " +
    "leave. A transfer raises the room's `version` by one; naming the current owner changes nothing (the version " +
    "included) and answers 200 with the room. A direct conversation has no owner (INVALID_OPERATION). Of two " +
    "racing transfers by one owner exactly one applies; the other is " +
    "FORBIDDEN, since its caller no longer owns the room. A transfer is announced after commit as `room.updated` " +
    "(with `ownerId` and `previousOwnerId`) on the room's STOMP destination and its members' notifications.",
  request: { params: RoomIdParamSchema, body: jsonRequest(UserIdBodySchema) },
  responses: {
    200: jsonContent(RoomEnvelopeSchema, "The room with its new owner."),
    ...errorResponses(
      ...AUTH_ERRORS,
      ...BODY_ERRORS,
      ...MANAGE_ROOM_ERRORS,
      "USER_NOT_FOUND",
      "INVALID_OPERATION",
    ),
  },
});

const removeMember = createRoute({
  method: "delete",
  path: "/api/v1/rooms/{roomId}/members/{userId}",
  tags,
  ...bearerAuth(),
  summary: "Remove a member, or leave when the user is the caller",
  description:
    "An owner cannot leave or be removed while others remain (INVALID_OPERATION); they transfer ownership first.",
  request: { params: MemberParamsSchema },
  responses: {
    204: { description: "Removed." },
    ...errorResponses(...AUTH_ERRORS, ...MANAGE_ROOM_ERRORS, "USER_NOT_FOUND", "INVALID_OPERATION"),
  },
});

const markRead = createRoute({
  method: "post",
  path: "/api/v1/rooms/{roomId}/read",
  tags,
  ...bearerAuth(jsonBody),
  summary: "Move the caller's read marker forward",
  description: "The marker never moves back; a seq past the end is clamped to the room's last seq.",
  request: { params: RoomIdParamSchema, body: jsonRequest(ReadBodySchema) },
  responses: {
    200: jsonContent(ReadResultSchema, "The marker and the unread count after the move."),
    ...errorResponses(...AUTH_ERRORS, ...BODY_ERRORS, ...ROOM_PATH_ERRORS),
  },
});

export function registerRoomRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(listRooms, async (c) => {
    const rooms = await c.var.services.rooms.list(principalOf(c));
    return c.json({ rooms: rooms.map(toRoomSummaryWire) }, 200);
  });

  app.openapi(createRoom, async (c) => {
    const room = await c.var.services.rooms.create(principalOf(c), c.req.valid("json"));
    return c.json({ room: toRoomWire(room) }, 201);
  });

  app.openapi(openDm, async (c) => {
    const { room, created } = await c.var.services.rooms.getOrCreateDm(
      principalOf(c),
      c.req.valid("json").userId,
    );
    return created ? c.json({ room: toRoomWire(room) }, 201) : c.json({ room: toRoomWire(room) }, 200);
  });

  app.openapi(getRoom, async (c) => {
    const details = await c.var.services.rooms.get(principalOf(c), c.req.valid("param").roomId);
    return c.json(toRoomDetailsWire(details), 200);
  });

  app.openapi(listMembers, async (c) => {
    const { after, limit = PAGE_DEFAULT } = c.req.valid("query");
    const page = await c.var.services.rooms.members(
      principalOf(c),
      c.req.valid("param").roomId,
      after ?? null,
      limit,
    );
    return c.json(toMemberPageWire(page), 200);
  });

  app.openapi(updateRoom, async (c) => {
    const room = await c.var.services.rooms.update(
      principalOf(c),
      c.req.valid("param").roomId,
      c.req.valid("json"),
    );
    return c.json({ room: toRoomWire(room) }, 200);
  });

  app.openapi(addMember, async (c) => {
    const event = await c.var.services.rooms.addMember(
      principalOf(c),
      c.req.valid("param").roomId,
      c.req.valid("json").userId,
    );
    return c.json(toMembershipWire(event), 201);
  });

  app.openapi(transferOwnership, async (c) => {
    const room = await c.var.services.rooms.transferOwnership(
      principalOf(c),
      c.req.valid("param").roomId,
      c.req.valid("json").userId,
    );
    return c.json({ room: toRoomWire(room) }, 200);
  });

  app.openapi(removeMember, async (c) => {
    const { roomId, userId } = c.req.valid("param");
    await c.var.services.rooms.removeMember(principalOf(c), roomId, userId);
    return c.body(null, 204);
  });

  app.openapi(markRead, async (c) => {
    const result = await c.var.services.rooms.markRead(
      principalOf(c),
      c.req.valid("param").roomId,
      c.req.valid("json").seq,
    );
    return c.json(result, 200);
  });
}
