/** Small helpers for waiting and for times, shared by every layer. */

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const DAY_MS = 86_400_000;

/**
 * A time (epoch ms) as ISO 8601; a time out of range (a provider's) reads as the epoch rather than failing an answer.
 */
export function isoTime(ms: number): string {
  const d = new Date(ms);
  return Number.isFinite(d.getTime()) ? d.toISOString() : new Date(0).toISOString();
}

/** The UTC day (YYYY-MM-DD) of a time. */
export const isoDay = (ms: number): string => isoTime(ms).slice(0, 10);
