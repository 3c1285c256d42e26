import { TWILIO_LIVE_STATUSES, type TwilioLiveStatus } from "../model/index.js";

const SID = /^CA[0-9a-fA-F]{32}$/;
const KEY_BYTES = 16;

/**
 * The SIDs of Twilio's live calls, kept compactly: 16 bytes and a status byte per call instead of a string
 * and a Map entry (about a tenth of the memory), so that a pass over 100,000 live calls stays close to the
 * memory of a small one. Filled while listing, then sealed (sorted) and searched by bisection.
 */
export class LiveCalls {
  private keys = Buffer.alloc(1024 * KEY_BYTES);
  private statuses = new Uint8Array(1024);
  private count = 0;
  private sealed = false;
  /** Anything that is not a standard Call SID (never seen in practice): kept as is. */
  private readonly odd = new Map<string, TwilioLiveStatus>();

  add(sid: string, status: TwilioLiveStatus): void {
    if (this.sealed) throw new Error("LiveCalls is sealed");
    if (!SID.test(sid)) {
      this.odd.set(sid, status);
      return;
    }
    if (this.count === this.statuses.length) this.grow();
    this.keys.write(sid.slice(2).toLowerCase(), this.count * KEY_BYTES, "hex");
    this.statuses[this.count] = TWILIO_LIVE_STATUSES.indexOf(status);
    this.count++;
  }

  /** Sorts the keys for lookups; drops duplicates' order dependence (the first listing of a SID wins). */
  seal(): this {
    const order = Array.from({ length: this.count }, (_, i) => i);
    const k = this.keys;
    order.sort(
      (a, b) =>
        k.compare(k, b * KEY_BYTES, b * KEY_BYTES + KEY_BYTES, a * KEY_BYTES, a * KEY_BYTES + KEY_BYTES) ||
        a - b,
    );
    const keys = Buffer.alloc(this.count * KEY_BYTES);
    const statuses = new Uint8Array(this.count);
    order.forEach((from, to) => {
      k.copy(keys, to * KEY_BYTES, from * KEY_BYTES, from * KEY_BYTES + KEY_BYTES);
      statuses[to] = this.statuses[from] as number;
    });
    this.keys = keys;
    this.statuses = statuses;
    this.sealed = true;
    return this;
  }

  get(sid: string): TwilioLiveStatus | undefined {
    if (!SID.test(sid)) return this.odd.get(sid);
    if (!this.sealed) throw new Error("LiveCalls must be sealed before lookups");
    const probe = Buffer.from(sid.slice(2), "hex");
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.keys.compare(probe, 0, KEY_BYTES, mid * KEY_BYTES, mid * KEY_BYTES + KEY_BYTES);
      if (c === 0) return TWILIO_LIVE_STATUSES[this.statuses[mid] as number];
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  get size(): number {
    return this.count + this.odd.size;
  }

  private grow(): void {
    const keys = Buffer.alloc(this.keys.length * 2);
    this.keys.copy(keys);
    const statuses = new Uint8Array(this.statuses.length * 2);
    statuses.set(this.statuses);
    this.keys = keys;
    this.statuses = statuses;
  }
}
