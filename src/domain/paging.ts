/**
 * The `nextAfter` cursor of a page read by id with `limit`: the page's last id when the page is full (more may
 * follow), null when it is short (nothing follows). A list whose size is a multiple of `limit` therefore ends with
 * an empty page; no extra row is read to know.
 */
export function nextAfter<T>(page: readonly T[], limit: number, idOf: (item: T) => string): string | null {
  const last = page.at(-1);
  return page.length === limit && last !== undefined ? idOf(last) : null;
}
