/** Every element through `read`; null when the list is missing or any element is unreadable. */
export function readAll<T>(items: unknown[] | null, read: (v: unknown) => T | null): T[] | null {
  if (items === null) return null;
  const out: T[] = [];
  for (const item of items) {
    const r = read(item);
    if (r === null) return null;
    out.push(r);
  }
  return out;
}
