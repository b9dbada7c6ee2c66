import { z } from "@hono/zod-openapi";
import type { Message, SearchHit } from "../../domain/message.ts";
import { CLIENT_MSG_ID_PATTERN, SEARCH_QUERY_MAX } from "../../domain/rules.ts";
import {
  IdCursorSchema,
  IdSchema,
  iso,
  isoOrNull,
  LimitQuerySchema,
  SeqCursorSchema,
  TimestampSchema,
  textSchema,
} from "./common.ts";

export const MessageSchema = z
  .object({
    id: IdSchema,
    seq: z.number().int().openapi({ description: "Position in the room's stream; messages sort by it." }),
    roomId: IdSchema,
    senderId: IdSchema,
    message: z.string().nullable().openapi({ description: "The text; null once the message is deleted." }),
    clientMsgId: z.string().nullable(),
    createdAt: TimestampSchema,
    editedAt: TimestampSchema.nullable(),
    deletedAt: TimestampSchema.nullable(),
  })
  .openapi("Message");

export type MessageWire = z.infer<typeof MessageSchema>;

export function toMessageWire(m: Message): MessageWire {
  return {
    id: m.id,
    seq: m.seq,
    roomId: m.roomId,
    senderId: m.senderId,
    message: m.deletedAt === null ? m.body : null,
    clientMsgId: m.clientMsgId,
    createdAt: iso(m.createdAt),
    editedAt: isoOrNull(m.editedAt),
    deletedAt: isoOrNull(m.deletedAt),
  };
}

/*
 * The message text is checked for storable text here; emptiness and length are the message service's (the
 * maximum is configuration, and too long is 422 MESSAGE_TOO_LONG, not a schema failure).
 */
export const SendMessageBodySchema = z
  .strictObject({
    message: textSchema(),
    clientMsgId: z.string().regex(CLIENT_MSG_ID_PATTERN).nullable().optional().openapi({
      description: "Idempotency key: the same one from the same sender always yields the same message.",
    }),
  })
  .openapi("SendMessage");

export const EditMessageBodySchema = z.strictObject({ message: textSchema() }).openapi("EditMessage");

export const HistoryQuerySchema = z.object({ before: SeqCursorSchema, limit: LimitQuerySchema });

export const HistoryPageSchema = z
  .object({
    messages: z.array(MessageSchema).openapi({ description: "Ascending seq." }),
    nextBefore: z.number().int().nullable().openapi({
      description: "Pass as `before` for the previous (older) page; null at the start of the room.",
    }),
  })
  .openapi("HistoryPage");

export const MessageParamsSchema = z.object({
  roomId: IdSchema.openapi({ param: { name: "roomId", in: "path" } }),
  messageId: IdSchema.openapi({ param: { name: "messageId", in: "path" } }),
});

export const SearchQuerySchema = z.object({
  q: textSchema({ max: SEARCH_QUERY_MAX, nonBlank: true }).openapi({
    description: "Plain words, never query syntax.",
  }),
  roomId: IdSchema.optional(),
  before: IdCursorSchema,
  limit: LimitQuerySchema,
});

export const SearchHitSchema = z
  .object({ message: MessageSchema, roomName: z.string() })
  .openapi("SearchHit");

export function toSearchHitWire(h: SearchHit): z.infer<typeof SearchHitSchema> {
  return { message: toMessageWire(h.message), roomName: h.roomName };
}

export const SearchResultSchema = z
  .object({
    hits: z.array(SearchHitSchema).openapi({ description: "Newest first." }),
    nextBefore: IdSchema.nullable().openapi({
      description: "Pass as `before` for the next page; null on the last page.",
    }),
  })
  .openapi("SearchResult");
