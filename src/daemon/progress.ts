/**
 * When the loop last moved forward (a page read, a provider answer, a write; a lease check on a stand-by),
 * on the monotonic clock. A loop that stops moving (a database link gone silent, a hung request) is what
 * /healthz, the lease heartbeat and the stall alert look at.
 */
export class Progress {
  private last: number;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.last = now();
  }

  mark(): void {
    this.last = this.now();
  }

  msSince(): number {
    return this.now() - this.last;
  }
}
