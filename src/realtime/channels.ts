/**
 * Broker channel names and WebSocket topic names, in one place so publishers and subscribers cannot disagree.
 * Broker channels are shared by every process; topics are local to one process's Bun server.
 */
export const roomChannel = (roomId: string): string => `room:${roomId}`;
export const userChannel = (userId: string): string => `user:${userId}`;
/** Renames of users, for every process's sender names (renames.ts). */
export const USERS_CHANNEL = "users";
/** The user id a `userChannel` name was made from. */
export const userOfChannel = (channel: string): string => channel.slice("user:".length);

/** One topic per (room, STOMP subscription id): a frame stamped with that id is published once to it. */
export const roomTopic = (roomId: string, subscriptionId: string): string => `r:${roomId}:${subscriptionId}`;
export const userTopic = (userId: string, subscriptionId: string): string => `u:${userId}:${subscriptionId}`;

export const ROOM_DESTINATION_PREFIX = "/sub/chat/room/";
export const roomDestination = (roomId: string): string => `${ROOM_DESTINATION_PREFIX}${roomId}`;
export const NOTIFICATIONS_DESTINATION = "/user/queue/notifications";
export const ERRORS_DESTINATION = "/user/queue/errors";
