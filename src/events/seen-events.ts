/**
 * The CloudEvent ids already handed on, so that Twilio's at-least-once delivery (a retry after a lost answer, a
 * duplicate) nudges a call once. Bounded: at most `maxIds` ids, each kept `keepMs` (the age past which an
 * event is stale anyway, so an older replay is refused by its date, not by this memory). When full, the
 * oldest id goes first; its replay then nudges again, which costs one more question to Twilio and nothing else
 * (a nudge is never evidence).
 *
 * A Map is enough, without a cache library: it iterates in insertion order, and every id is kept for the same
 * window, so the first entry is always the next to expire.
 */
export interface SeenEvents {
  /**
   * The ids of `ids` not seen before (each once, in order), now held as seen. The caller releases them if it
   * could not hand their nudges on, so that Twilio's retry is not taken for a duplicate.
   */
  claim(ids: readonly string[], now: Date): string[];
  /** Forgets ids claimed for a hand-off that failed. */
  release(ids: readonly string[]): void;
  readonly size: number;
}

export interface SeenEventsLimits {
  maxIds: number;
  keepMs: number;
}

export const DEFAULT_MAX_SEEN_IDS = 100_000;

export function seenEvents({ maxIds, keepMs }: SeenEventsLimits): SeenEvents {
  if (!Number.isInteger(maxIds) || maxIds < 1)
    throw new Error(`maxIds must be a positive integer: ${maxIds}`);
  const expiries = new Map<string, number>();

  const forgetExpired = (nowMs: number) => {
    for (const [id, expiry] of expiries) {
      if (expiry > nowMs) break;
      expiries.delete(id);
    }
  };

  return {
    claim(ids, now) {
      const nowMs = now.getTime();
      forgetExpired(nowMs);
      const fresh: string[] = [];
      for (const id of ids) {
        if (expiries.has(id)) continue;
        if (expiries.size >= maxIds) {
          const oldest = expiries.keys().next();
          if (!oldest.done) expiries.delete(oldest.value);
        }
        expiries.set(id, nowMs + keepMs);
        fresh.push(id);
      }
      return fresh;
    },
    release(ids) {
      for (const id of ids) expiries.delete(id);
    },
    get size() {
      return expiries.size;
    },
  };
}
