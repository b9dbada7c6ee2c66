/**
 * Builds an FTS5 MATCH expression from plain text. The text is cut into words (runs of letters, digits and
 * combining marks); each word becomes an FTS5 string literal, so nothing the user types is ever read as query
 * syntax (no operators, column filters, NEAR groups or unbalanced quotes). All words must match as whole terms
 * (implicit AND); the last is a prefix, to match while the user is still typing it.
 *
 * Returns null when the text holds no word: the caller answers with no hits rather than matching everything.
 */
export function toFtsQuery(text: string): string | null {
  const words = text.match(/[\p{L}\p{N}\p{M}]+/gu);
  if (words === null) return null;
  // Words hold no double quote by construction, so wrapping them in quotes needs no escaping.
  return words.map((w, i) => (i === words.length - 1 ? `"${w}"*` : `"${w}"`)).join(" ");
}
