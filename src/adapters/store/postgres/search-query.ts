/**
 * Turns plain user text into a `to_tsquery('simple', …)` argument: every word must match as a whole term,
 * the last one also as a prefix. Words are runs of letters, digits and combining marks — the same split the
 * stored tsvector gets (punctuation replaced by spaces) and SQLite FTS5's unicode61 tokenizer makes — so
 * operators typed by the user (`&`, `|`, `!`, `:*`, quotes, parentheses) are separators, never syntax.
 * Returns null when the text holds no word; such a query matches nothing.
 */
export function toPrefixTsQuery(text: string): string | null {
  const words = text
    .toLowerCase()
    .split(/[^\p{L}\p{N}\p{M}]+/u)
    // PostgreSQL neither indexes nor accepts lexemes of 2 KiB or more; such a word can match nothing stored.
    .filter((w) => w.length > 0 && new TextEncoder().encode(w).length < 2047);
  if (words.length === 0) return null;
  // Each word is quoted as a tsquery literal; a word holds neither quote nor backslash, escaping is belt and braces.
  const terms = words.map((w) => `'${w.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`);
  terms[terms.length - 1] += ":*";
  return terms.join(" & ");
}
