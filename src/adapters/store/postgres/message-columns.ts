/** The columns every query returning whole messages selects, in the shape of MessageRow (rows.ts). */
export const MESSAGE_COLUMNS =
  "id, room_id, seq, sender_id, body, client_msg_id, created_at, edited_at, deleted_at";

/**
 * MESSAGE_COLUMNS of the table aliased `alias`, each named `m_<column>`: a message joined into another row
 * (PrefixedMessageRow in rows.ts).
 */
export function prefixedMessageColumns(alias: string): string {
  return MESSAGE_COLUMNS.split(", ")
    .map((c) => `${alias}.${c} AS m_${c}`)
    .join(", ");
}

/**
 * MESSAGE_COLUMNS of the `message` column (of type messages) of a function's row aliased `a`, named as
 * MESSAGE_COLUMNS: what `parley_append_message` and `parley_append_batch` return, read as a MessageRow.
 */
export const FUNCTION_MESSAGE_COLUMNS = MESSAGE_COLUMNS.split(", ")
  .map((c) => `(a.message).${c}`)
  .join(", ");
