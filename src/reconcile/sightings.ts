import type { CallStore, Sighting } from "../model/index.js";

/**
 * The realtime sightings of one pass: read from the daemon's own table for each page before its rows are
 * asked about, written back after. A live answer or an error ends a streak of "gone" answers; only a streak
 * seen on two passes an interval apart confirms an absence. Kept in the table, a new leader or a restarted
 * daemon continues from them, and an answer another replica saw in between is never missed.
 */
export class PassSightings {
  private readonly known = new Map<string, Sighting>();
  private readonly changed = new Map<string, Sighting>();
  /**
   * Probes of this pass that answered live, and gone, of calls within OpenAI's session cap: the positive control
   * and the blast radius, which protect exactly those. Calls past the cap are counted apart.
   */
  live = 0;
  gone = 0;
  /** Live answers for calls past the cap: they prove the key sees sessions (and that the cap is wrong). */
  livePastCap = 0;

  constructor(private readonly store: CallStore) {}

  /** Reads what earlier passes saw of these realtime calls. */
  async load(realtimeIds: readonly string[]): Promise<void> {
    const wanted = realtimeIds.filter((id) => !this.known.has(id));
    for (const [id, s] of await this.store.sightings(wanted)) this.known.set(id, s);
  }

  sawLive(realtimeId: string, now: Date, pastCap = false): void {
    if (pastCap) this.livePastCap++;
    else this.live++;
    this.set(realtimeId, { firstGoneAt: null, lastLiveAt: now });
  }

  /** Returns when the current streak of absences began (null: this is its first sighting). */
  sawGone(
    realtimeId: string,
    now: Date,
    pastCap = false,
  ): { firstSeenGoneAt: Date | null; lastSeenLiveAt: Date | null } {
    if (!pastCap) this.gone++;
    const before = this.known.get(realtimeId);
    const first = before?.firstGoneAt ?? null;
    const lastLive = before?.lastLiveAt ?? null;
    this.set(realtimeId, { firstGoneAt: first ?? now, lastLiveAt: lastLive });
    return { firstSeenGoneAt: first, lastSeenLiveAt: lastLive };
  }

  /** No answer (an error): it proves nothing either way, so the streak must start again. */
  sawNothing(realtimeId: string): void {
    const before = this.known.get(realtimeId);
    if (before?.firstGoneAt != null)
      this.set(realtimeId, { firstGoneAt: null, lastLiveAt: before.lastLiveAt });
  }

  /** Writes what this page saw, and forgets its calls: memory stays bounded by the pages in flight. */
  async save(realtimeIds: readonly string[]): Promise<void> {
    const page = new Map<string, Sighting>();
    for (const id of realtimeIds) {
      const s = this.changed.get(id);
      if (s !== undefined) page.set(id, s);
      this.changed.delete(id);
      this.known.delete(id);
    }
    await this.store.saveSightings(page);
  }

  private set(realtimeId: string, s: Sighting): void {
    this.known.set(realtimeId, s);
    this.changed.set(realtimeId, s);
  }
}
