import type { CallNudge } from "../model/index.js";

/**
 * The calls events asked the leader to look at, one entry per Call SID (the latest event wins: a replayed or
 * repeated event queues nothing new), bounded: past `capacity`, the oldest entries are dropped and counted,
 * and the next periodic pass finds their calls as it always did.
 */
export class NudgeQueue {
  private readonly pending = new Map<string, CallNudge>();
  private wake: (() => void) | null = null;
  /** Entries dropped because the queue was full. */
  dropped = 0;

  constructor(private readonly capacity = 10_000) {}

  get size(): number {
    return this.pending.size;
  }

  /** Queues each nudge's call; returns how many calls were not queued already. */
  add(nudges: readonly CallNudge[]): number {
    let added = 0;
    for (const n of nudges) {
      if (!this.pending.has(n.callSid)) added++;
      // Re-inserted, so that the map's order stays the order calls were last reported in.
      this.pending.delete(n.callSid);
      this.pending.set(n.callSid, n);
    }
    for (const sid of this.pending.keys()) {
      if (this.pending.size <= this.capacity) break;
      this.pending.delete(sid);
      this.dropped++;
    }
    if (this.pending.size > 0) {
      this.wake?.();
      this.wake = null;
    }
    return added;
  }

  /** The `max` calls reported first, taken off the queue. */
  take(max: number): CallNudge[] {
    const taken: CallNudge[] = [];
    for (const [sid, nudge] of this.pending) {
      if (taken.length >= max) break;
      taken.push(nudge);
      this.pending.delete(sid);
    }
    return taken;
  }

  /** Forgets every queued call (this replica stopped leading: the new leader's pass covers them). */
  clear(): void {
    this.pending.clear();
  }

  /** Resolves once a call is queued (at once if one is), or when `signal` aborts. */
  waitForWork(signal: AbortSignal): Promise<void> {
    if (this.pending.size > 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        this.wake = null;
        resolve();
      };
      this.wake = done;
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
