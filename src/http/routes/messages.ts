import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { PAGE_DEFAULT } from "../../domain/rules.ts";
import { bearerAuth, principalOf } from "../auth-middleware.ts";
import type { AppEnv } from "../env.ts";
import { jsonBody } from "../json-body.ts";
import { AUTH_ERRORS, BODY_ERRORS, errorResponses, jsonContent, jsonRequest } from "../schemas/common.ts";
import {
  EditMessageBodySchema,
  HistoryPageSchema,
  HistoryQuerySchema,
  MessageParamsSchema,
  MessageSchema,
  SendMessageBodySchema,
  toMessageWire,
} from "../schemas/messages.ts";
import { ROOM_PATH_ERRORS, RoomIdParamSchema } from "../schemas/rooms.ts";

const tags = ["messages"];
/** Errors any route under /rooms/{roomId}/messages/{messageId} can answer. */
const MESSAGE_PATH_ERRORS = [...ROOM_PATH_ERRORS, "MESSAGE_NOT_FOUND"] as const;

const history = createRoute({
  method: "get",
  path: "/api/v1/rooms/{roomId}/messages",
  tags,
  ...bearerAuth(),
  summary: "A page of history, by seq cursor",
  description:
    "The newest `limit` messages below `before`, returned in ascending seq; deleted ones as tombstones.",
  request: { params: RoomIdParamSchema, query: HistoryQuerySchema },
  responses: {
    200: jsonContent(HistoryPageSchema, "One page."),
    ...errorResponses(...AUTH_ERRORS, ...ROOM_PATH_ERRORS, "INVALID_CURSOR", "VALIDATION_FAILED"),
  },
});

const send = createRoute({
  method: "post",
  path: "/api/v1/rooms/{roomId}/messages",
  tags,
  ...bearerAuth(jsonBody),
  summary: "Send a message",
  description:
    "Committed before the response. With a clientMsgId the send is idempotent: a repeat returns 200 and the stored message.",
  request: { params: RoomIdParamSchema, body: jsonRequest(SendMessageBodySchema) },
  responses: {
    200: jsonContent(MessageSchema, "Already stored under this clientMsgId; nothing new was stored."),
    201: jsonContent(MessageSchema, "Stored."),
    ...errorResponses(
      ...AUTH_ERRORS,
      ...BODY_ERRORS,
      ...ROOM_PATH_ERRORS,
      "MESSAGE_TOO_LONG",
      "CLIENT_MSG_ID_CONFLICT",
    ),
  },
});

const getMessage = createRoute({
  method: "get",
  path: "/api/v1/rooms/{roomId}/messages/{messageId}",
  tags,
  ...bearerAuth(),
  summary: "One message",
  request: { params: MessageParamsSchema },
  responses: {
    200: jsonContent(MessageSchema, "The message (a tombstone if deleted)."),
    ...errorResponses(...AUTH_ERRORS, ...MESSAGE_PATH_ERRORS),
  },
});

const editMessage = createRoute({
  method: "patch",
  path: "/api/v1/rooms/{roomId}/messages/{messageId}",
  tags,
  ...bearerAuth(jsonBody),
  summary: "Edit a message (its author only)",
  request: { params: MessageParamsSchema, body: jsonRequest(EditMessageBodySchema) },
  responses: {
    200: jsonContent(MessageSchema, "The edited message."),
    ...errorResponses(
      ...AUTH_ERRORS,
      ...BODY_ERRORS,
      ...MESSAGE_PATH_ERRORS,
      "FORBIDDEN",
      "MESSAGE_TOO_LONG",
    ),
  },
});

const deleteMessage = createRoute({
  method: "delete",
  path: "/api/v1/rooms/{roomId}/messages/{messageId}",
  tags,
  ...bearerAuth(),
  summary: "Delete a message (author, room owner or administrator)",
  description: "Soft delete: the message stays in history as a tombstone. Deleting twice is a no-op.",
  request: { params: MessageParamsSchema },
  responses: {
    204: { description: "Deleted." },
    ...errorResponses(...AUTH_ERRORS, ...MESSAGE_PATH_ERRORS, "FORBIDDEN"),
  },
});

export function registerMessageRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(history, async (c) => {
    const { before, limit = PAGE_DEFAULT } = c.req.valid("query");
    const page = await c.var.services.messages.history(
      principalOf(c),
      c.req.valid("param").roomId,
      before,
      limit,
    );
    return c.json({ messages: page.messages.map(toMessageWire), nextBefore: page.nextBefore }, 200);
  });

  app.openapi(send, async (c) => {
    const body = c.req.valid("json");
    const { message, created } = await c.var.services.messages.send(
      principalOf(c),
      c.req.valid("param").roomId,
      body.message,
      body.clientMsgId ?? null,
    );
    return created ? c.json(toMessageWire(message), 201) : c.json(toMessageWire(message), 200);
  });

  app.openapi(getMessage, async (c) => {
    const { roomId, messageId } = c.req.valid("param");
    return c.json(toMessageWire(await c.var.services.messages.get(principalOf(c), roomId, messageId)), 200);
  });

  app.openapi(editMessage, async (c) => {
    const { roomId, messageId } = c.req.valid("param");
    const message = await c.var.services.messages.edit(
      principalOf(c),
      roomId,
      messageId,
      c.req.valid("json").message,
    );
    return c.json(toMessageWire(message), 200);
  });

  app.openapi(deleteMessage, async (c) => {
    const { roomId, messageId } = c.req.valid("param");
    await c.var.services.messages.delete(principalOf(c), roomId, messageId);
    return c.body(null, 204);
  });
}
