import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { PAGE_DEFAULT } from "../../domain/rules.ts";
import { principalOf, requireAuth } from "../auth-middleware.ts";
import type { AppEnv } from "../env.ts";
import { jsonBody } from "../json-body.ts";
import {
  AUTH_ERRORS,
  BEARER_SECURITY,
  BODY_ERRORS,
  errorResponses,
  jsonContent,
  jsonRequest,
} from "../schemas/common.ts";
import {
  EditMessageBodySchema,
  HistoryPageSchema,
  HistoryQuerySchema,
  MessageParamsSchema,
  MessageSchema,
  SendMessageBodySchema,
  toMessageWire,
} from "../schemas/messages.ts";
import { RoomIdParamSchema } from "../schemas/rooms.ts";

const tags = ["messages"];
const secured = { security: BEARER_SECURITY } as const;

const history = createRoute({
  method: "get",
  path: "/api/v1/rooms/{roomId}/messages",
  tags,
  ...secured,
  summary: "A page of history, by seq cursor",
  description:
    "The newest `limit` messages below `before`, returned in ascending seq; deleted ones as tombstones.",
  middleware: [requireAuth] as const,
  request: { params: RoomIdParamSchema, query: HistoryQuerySchema },
  responses: {
    200: jsonContent(HistoryPageSchema, "One page."),
    ...errorResponses(...AUTH_ERRORS, "INVALID_ID", "INVALID_CURSOR", "VALIDATION_FAILED", "ROOM_NOT_FOUND"),
  },
});

const send = createRoute({
  method: "post",
  path: "/api/v1/rooms/{roomId}/messages",
  tags,
  ...secured,
  summary: "Send a message",
  description:
    "Committed before the response. With a clientMsgId the send is idempotent: a repeat returns 200 and the stored message.",
  middleware: [requireAuth, jsonBody] as const,
  request: { params: RoomIdParamSchema, body: jsonRequest(SendMessageBodySchema) },
  responses: {
    200: jsonContent(MessageSchema, "Already stored under this clientMsgId; nothing new was stored."),
    201: jsonContent(MessageSchema, "Stored."),
    ...errorResponses(
      ...AUTH_ERRORS,
      ...BODY_ERRORS,
      "INVALID_ID",
      "ROOM_NOT_FOUND",
      "MESSAGE_TOO_LONG",
      "CLIENT_MSG_ID_CONFLICT",
    ),
  },
});

const getMessage = createRoute({
  method: "get",
  path: "/api/v1/rooms/{roomId}/messages/{messageId}",
  tags,
  ...secured,
  summary: "One message",
  middleware: [requireAuth] as const,
  request: { params: MessageParamsSchema },
  responses: {
    200: jsonContent(MessageSchema, "The message (a tombstone if deleted)."),
    ...errorResponses(...AUTH_ERRORS, "INVALID_ID", "ROOM_NOT_FOUND", "MESSAGE_NOT_FOUND"),
  },
});

const editMessage = createRoute({
  method: "patch",
  path: "/api/v1/rooms/{roomId}/messages/{messageId}",
  tags,
  ...secured,
  summary: "Edit a message (its author only)",
  middleware: [requireAuth, jsonBody] as const,
  request: { params: MessageParamsSchema, body: jsonRequest(EditMessageBodySchema) },
  responses: {
    200: jsonContent(MessageSchema, "The edited message."),
    ...errorResponses(
      ...AUTH_ERRORS,
      ...BODY_ERRORS,
      "INVALID_ID",
      "ROOM_NOT_FOUND",
      "MESSAGE_NOT_FOUND",
      "FORBIDDEN",
      "MESSAGE_TOO_LONG",
    ),
  },
});

const deleteMessage = createRoute({
  method: "delete",
  path: "/api/v1/rooms/{roomId}/messages/{messageId}",
  tags,
  ...secured,
  summary: "Delete a message (author, room owner or administrator)",
  description: "Soft delete: the message stays in history as a tombstone. Deleting twice is a no-op.",
  middleware: [requireAuth] as const,
  request: { params: MessageParamsSchema },
  responses: {
    204: { description: "Deleted." },
    ...errorResponses(...AUTH_ERRORS, "INVALID_ID", "ROOM_NOT_FOUND", "MESSAGE_NOT_FOUND", "FORBIDDEN"),
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
