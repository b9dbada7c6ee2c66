import { z } from "@hono/zod-openapi";
import type { ErrorCode } from "../../domain/errors.ts";
import type { RoomEvent } from "../../domain/message.ts";
import { MEMBER_ROLES, ROOM_KINDS, type Room } from "../../domain/room.ts";
import { ROOM_NAME_MAX, ROOM_TOPIC_MAX, UNREAD_COUNT_MAX } from "../../domain/rules.ts";
import type { MemberView, RoomSummary } from "../../ports/store.ts";
import {
  INITIAL_MEMBERS_MAX,
  type MemberPage,
  ROOM_DETAILS_MEMBERS,
  type RoomDetails,
} from "../../services/room-service.ts";
import { IdSchema, iso, TimestampSchema, textSchema } from "./common.ts";
import { MessageSchema, toMessageWire } from "./messages.ts";
import { PublicUserSchema, toPublicUserWire } from "./users.ts";

export const RoomSchema = z
  .object({
    id: IdSchema,
    kind: z.enum(ROOM_KINDS),
    name: z.string(),
    topic: z.string(),
    ownerId: IdSchema.nullable(),
    createdAt: TimestampSchema,
    lastSeq: z.number().int().openapi({ description: "The highest seq in the room's stream; 0 when empty." }),
    version: z
      .number()
      .int()
      .min(1)
      .openapi({
        description:
          "The version of the room's details (name, topic, owner): 1 for a new room, one more after every committed " +
          "rename, change of topic or ownership transfer; the `version` of `room.updated` events. Of two views of " +
          "the room, the one with the higher version is the newer.",
      }),
  })
  .openapi("Room");

export function toRoomWire(r: Room): z.infer<typeof RoomSchema> {
  return {
    id: r.id,
    kind: r.kind,
    name: r.name,
    topic: r.topic,
    ownerId: r.ownerId,
    createdAt: iso(r.createdAt),
    lastSeq: r.lastSeq,
    version: r.version,
  };
}

export const RoomEnvelopeSchema = z.object({ room: RoomSchema });

/** The unread count wherever the API reports one: capped, and documented as such. */
const UnreadCountSchema = z
  .number()
  .int()
  .min(0)
  .max(UNREAD_COUNT_MAX)
  .openapi({
    description:
      "Others' messages, not deleted, above the read marker, counted up to " +
      `${UNREAD_COUNT_MAX}: ${UNREAD_COUNT_MAX} means "${UNREAD_COUNT_MAX} or more" ` +
      `(show it as e.g. "${UNREAD_COUNT_MAX - 1}+").`,
  });

export const RoomSummarySchema = z
  .object({
    room: RoomSchema,
    myRole: z.enum(MEMBER_ROLES),
    lastMessage: MessageSchema.nullable(),
    unreadCount: UnreadCountSchema,
    readSeq: z.number().int(),
  })
  .openapi("RoomSummary");

export function toRoomSummaryWire(s: RoomSummary): z.infer<typeof RoomSummarySchema> {
  return {
    room: toRoomWire(s.room),
    myRole: s.myRole,
    lastMessage: s.lastMessage === null ? null : toMessageWire(s.lastMessage),
    unreadCount: s.unreadCount,
    readSeq: s.readSeq,
  };
}

export const RoomListSchema = z.object({ rooms: z.array(RoomSummarySchema) });

export const MemberSchema = z
  .object({ userId: IdSchema, role: z.enum(MEMBER_ROLES), joinedAt: TimestampSchema, user: PublicUserSchema })
  .openapi("Member");

export function toMemberWire(m: MemberView): z.infer<typeof MemberSchema> {
  return {
    userId: m.member.userId,
    role: m.member.role,
    joinedAt: iso(m.member.joinedAt),
    user: toPublicUserWire(m.user),
  };
}

export const RoomDetailsSchema = z
  .object({
    room: RoomSchema,
    members: z.array(MemberSchema).openapi({
      description: `The first ${ROOM_DETAILS_MEMBERS} members by user id: every member of a room that has no more.`,
    }),
    membersNextAfter: IdSchema.nullable().openapi({
      description:
        "When `members` is a full page, the `after` cursor of GET /api/v1/rooms/{roomId}/members for the rest; null otherwise.",
    }),
    myRole: z.enum(MEMBER_ROLES),
  })
  .openapi("RoomDetails");

export function toRoomDetailsWire(d: RoomDetails): z.infer<typeof RoomDetailsSchema> {
  return {
    room: toRoomWire(d.room),
    members: d.members.map(toMemberWire),
    membersNextAfter: d.membersNextAfter,
    myRole: d.myRole,
  };
}

export const MemberPageSchema = z
  .object({
    members: z.array(MemberSchema),
    nextAfter: IdSchema.nullable().openapi({
      description: "Cursor for the next page; null on the last page.",
    }),
  })
  .openapi("MemberPage");

export function toMemberPageWire(p: MemberPage): z.infer<typeof MemberPageSchema> {
  return { members: p.members.map(toMemberWire), nextAfter: p.nextAfter };
}

export const CreateRoomBodySchema = z
  .strictObject({
    name: textSchema({ max: ROOM_NAME_MAX, nonBlank: true }),
    topic: textSchema({ max: ROOM_TOPIC_MAX }).optional(),
    memberIds: z.array(IdSchema).max(INITIAL_MEMBERS_MAX).optional(),
  })
  .openapi("CreateRoom");

export const UpdateRoomBodySchema = z
  .strictObject({
    name: textSchema({ max: ROOM_NAME_MAX, nonBlank: true }).optional(),
    topic: textSchema({ max: ROOM_TOPIC_MAX }).optional(),
  })
  .openapi("UpdateRoom");

export const UserIdBodySchema = z.strictObject({ userId: IdSchema }).openapi("UserRef");

export const MembershipSchema = z
  .object({
    roomId: IdSchema,
    userId: IdSchema,
    role: z.enum(MEMBER_ROLES),
    seq: z.number().int().openapi({ description: "Seq of the member.joined event in the room's stream." }),
    joinedAt: TimestampSchema,
  })
  .openapi("Membership");

export function toMembershipWire(e: RoomEvent): z.infer<typeof MembershipSchema> {
  if (e.member === null) throw new Error("member event without a member");
  return { roomId: e.roomId, userId: e.member.userId, role: e.member.role, seq: e.seq, joinedAt: iso(e.at) };
}

export const ReadBodySchema = z
  .strictObject({
    seq: z
      .number()
      .int()
      .min(0)
      .max(Number.MAX_SAFE_INTEGER)
      .openapi({ description: "The highest seq read; the marker never moves back." }),
  })
  .openapi("MarkRead");

export const ReadResultSchema = z
  .object({ readSeq: z.number().int(), unreadCount: UnreadCountSchema })
  .openapi("ReadState");

export const RoomIdParamSchema = z.object({
  roomId: IdSchema.openapi({ param: { name: "roomId", in: "path" } }),
});

/** Errors any route under /rooms/{roomId} can answer; a room the caller is not in is ROOM_NOT_FOUND too. */
export const ROOM_PATH_ERRORS = ["INVALID_ID", "ROOM_NOT_FOUND"] as const satisfies readonly ErrorCode[];

export const MemberParamsSchema = z.object({
  roomId: IdSchema.openapi({ param: { name: "roomId", in: "path" } }),
  userId: IdSchema.openapi({ param: { name: "userId", in: "path" } }),
});
