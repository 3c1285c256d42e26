/** A time of the daemon's own tables (ISO UTC text, written by `Date.toISOString()`), or null. */
export const ownTime = (text: unknown): Date | null =>
  text === null || text === undefined ? null : new Date(String(text));
