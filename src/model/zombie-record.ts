/** One zombie the daemon ended, as its cause row holds it. */
export interface ZombieRecord {
  callId: string;
  source: string;
  direction: string | null;
  providerStatus: string | null;
  startedAt: Date | null;
  providerEndedAt: Date;
  endedHereAt: Date;
  /** null: the diagnosis is still queued. */
  cause: string | null;
  detail: unknown;
}
