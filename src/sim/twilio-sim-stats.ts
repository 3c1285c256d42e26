/** The Twilio simulator's counters: overall and per account in the URL. */
import type { RouteKind } from "./twilio-sim-http.js";
import type { SimAccountStats, SimTwilioStats } from "./twilio-sim-types.js";
import { SlidingWindow } from "./twilio-sim-window.js";

/** The overall counters; each account's are kept apart (see twilio-sim.ts), keyed by text from the URL. */
export type OverallStats = Omit<SimTwilioStats, "byAccount">;

export const emptyStats = (): OverallStats => ({
  requests: 0,
  fetches: 0,
  lists: 0,
  events: 0,
  notifications: 0,
  numbers: 0,
  responsesByStatus: {},
  rateLimited: 0,
  maxRequestsInOneSecond: 0,
  abandoned: 0,
});

export const emptyAccountStats = (): SimAccountStats => ({
  requests: 0,
  fetches: 0,
  lists: 0,
  events: 0,
  notifications: 0,
  numbers: 0,
  rateLimited: 0,
  maxRequestsInOneSecond: 0,
});

/** Arrival and served windows, one set per account in the URL (Twilio limits each account on its own). */
export class AccountWindows {
  private readonly windows = new Map<string, { arrivals: SlidingWindow; served: SlidingWindow }>();
  of(account: string) {
    let w = this.windows.get(account);
    if (w === undefined) {
      w = { arrivals: new SlidingWindow(), served: new SlidingWindow() };
      this.windows.set(account, w);
    }
    return w;
  }
  /** Forgets the arrivals (for stats), not what the rate limit has served. */
  clearArrivals(): void {
    for (const w of this.windows.values()) w.arrivals.clear();
  }
}

const COUNTERS = {
  fetch: "fetches",
  list: "lists",
  events: "events",
  notifications: "notifications",
  numbers: "numbers",
} as const satisfies Record<RouteKind, keyof SimAccountStats>;

/** Counts one request to a route, whatever its outcome. */
export function countRoute(stats: SimAccountStats | OverallStats, kind: RouteKind): void {
  stats[COUNTERS[kind]]++;
}
