/**
 * A per-call memory kept across passes that forgets the calls a complete pass no longer listed (ended by
 * the app, or gone), so that it holds only calls still active. Shared by the realtime absences and the row
 * backoff.
 */
export class PassMemory<V> {
  private readonly entries = new Map<string, V>();
  private seen = new Set<string>();

  get(callId: string): V | undefined {
    return this.entries.get(callId);
  }

  set(callId: string, value: V): void {
    this.entries.set(callId, value);
    this.seen.add(callId);
  }

  delete(callId: string): void {
    this.entries.delete(callId);
  }

  /** Keeps the call remembered after this pass without changing what is remembered of it. */
  touch(callId: string): void {
    this.seen.add(callId);
  }

  /** Starts a pass: only calls touched during it are remembered afterwards. */
  beginPass(): void {
    this.seen = new Set();
  }

  /** After a complete pass, forgets the calls it did not touch. */
  endCompletePass(): void {
    for (const id of this.entries.keys()) if (!this.seen.has(id)) this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }
}
