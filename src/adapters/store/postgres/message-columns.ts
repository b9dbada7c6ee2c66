/** The columns every query returning whole messages selects, in the shape of MessageRow (rows.ts). */
export const MESSAGE_COLUMNS =
  "id, room_id, seq, sender_id, body, client_msg_id, created_at, edited_at, deleted_at";
