/** What started a pass: the daemon's interval, or POST /reconcile. */
export type PassTrigger = "timer" | "request";

export interface RunningPass {
  runId: string;
  trigger: PassTrigger;
  startedAt: Date;
}

/**
 * One pass at a time per replica, whoever starts it. Two passes at once would ask the providers twice and race
 * each other's ends; the second is refused rather than queued, so that the caller learns which run to look at.
 */
export class PassGate {
  private current: { pass: RunningPass; done: Promise<unknown> } | null = null;

  get running(): RunningPass | null {
    return this.current?.pass ?? null;
  }

  /**
   * Starts `pass` now, or names the one running. The check and the start happen in the same turn of the
   * event loop, so two callers can never both start.
   */
  start<T>(pass: RunningPass, run: () => Promise<T>): { started: Promise<T> } | { busy: RunningPass } {
    if (this.current !== null) return { busy: this.current.pass };
    const started = run().finally(() => {
      this.current = null;
    });
    this.current = { pass, done: started };
    return { started };
  }

  /** Resolves once no pass is running (at once when none is). Never rejects. */
  async idle(): Promise<void> {
    while (this.current !== null) await this.current.done.catch(() => undefined);
  }
}
