/** Event times within the last `spanMs`, on a monotonic clock; amortised O(1) per event. */
export class SlidingWindow {
  private times: number[] = [];
  private head = 0;

  constructor(private readonly spanMs = 1000) {}

  count(now: number): number {
    const cutoff = now - this.spanMs;
    while (this.head < this.times.length && (this.times[this.head] as number) <= cutoff) this.head++;
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    return this.times.length - this.head;
  }

  /** Records an event and returns how many fall in the window, this one included. */
  add(now: number): number {
    this.count(now);
    this.times.push(now);
    return this.times.length - this.head;
  }

  clear(): void {
    this.times = [];
    this.head = 0;
  }
}
