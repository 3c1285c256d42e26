/**
 * The pages of a pass being checked at once. Each page's promise is handled from the moment it is added: a
 * page that fails while the pass waits on another (a lock timeout, a connection terminated) is held here as the
 * pass's failure instead of reaching the process as an unhandled rejection, and `onFailure` stops the rest.
 */
export class PagesInFlight {
  private readonly pages: Promise<void>[] = [];
  private failure: { error: unknown } | null = null;

  constructor(
    private readonly max: number,
    private readonly onFailure: (error: unknown) => void,
  ) {}

  get failed(): boolean {
    return this.failure !== null;
  }

  /** Adds a page; once `max` are in flight, waits for the oldest. Never rejects. */
  async add(page: Promise<void>): Promise<void> {
    this.pages.push(
      page.catch((error: unknown) => {
        if (this.failure !== null) return;
        this.failure = { error };
        this.onFailure(error);
      }),
    );
    if (this.pages.length >= this.max) await this.pages.shift();
  }

  /** Waits for every page added so far, failed or not: none runs on past the pass. Never rejects. */
  async settle(): Promise<void> {
    await Promise.all(this.pages.splice(0));
  }

  /** Throws the first page's failure, if any. */
  throwIfFailed(): void {
    if (this.failure !== null) throw this.failure.error;
  }
}
