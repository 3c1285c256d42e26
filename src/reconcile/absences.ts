import { PassMemory } from "./pass-memory.js";

/**
 * Remembers, between passes, when a realtime session was first seen gone. An absence is weak evidence
 * (a blip, a session that has not registered yet), so it must be seen again at least one interval later
 * before a row is ended: the two-phase check of Kubernetes' pod GC and BullMQ's stalled jobs.
 *
 * Kept in memory: a restart, or a new leader, simply starts the two sightings again (the safe side).
 */
export class AbsenceMemory {
  private readonly firstSeenGone = new PassMemory<Date>();

  /** Records a "gone" sighting; returns when it was first seen gone, or null when this is the first time. */
  sawGone(callId: string, now: Date): Date | null {
    const first = this.firstSeenGone.get(callId);
    if (first === undefined) {
      this.firstSeenGone.set(callId, now);
      return null;
    }
    this.firstSeenGone.touch(callId);
    return first;
  }

  /** A live session breaks the chain of sightings: the next absence starts from scratch. */
  sawLive(callId: string): void {
    this.firstSeenGone.delete(callId);
  }

  /** No answer (an error): neither confirms nor breaks the chain, but keeps the suspect remembered. */
  sawNothing(callId: string): void {
    this.firstSeenGone.touch(callId);
  }

  /** Starts a pass: only calls seen during it are remembered afterwards. */
  beginPass(): void {
    this.firstSeenGone.beginPass();
  }

  /** After a complete pass, forgets suspects that were not listed (ended, or no longer active). */
  endCompletePass(): void {
    this.firstSeenGone.endCompletePass();
  }

  get size(): number {
    return this.firstSeenGone.size;
  }
}
