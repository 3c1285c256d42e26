import { performance } from "node:perf_hooks";
import type { TwilioSimulator } from "../src/sim/twilio-sim.js";
import type { DbTimes } from "./protocol.js";

/** Wall time during which at least one operation was in flight: overlapping calls are counted once. */
class BusyClock {
  private inFlight = 0;
  private since = 0;
  ms = 0;

  start(): void {
    if (this.inFlight++ === 0) this.since = performance.now();
  }

  stop(): void {
    if (--this.inFlight === 0) this.ms += performance.now() - this.since;
  }
}

const WRITE_METHODS = new Set(["endCall", "endCalls"]);

/**
 * Wraps every method of the store (whatever methods it has: `endCalls` is timed as soon as it exists) to
 * time the database work of a pass. Calls go to the real store, with the real `this`.
 */
export function timedStore<T extends object>(store: T): { store: T; times: () => DbTimes } {
  const all = new BusyClock();
  const writes = new BusyClock();
  const methods: DbTimes["methods"] = {};
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function" || typeof prop !== "string" || prop === "constructor") return value;
      return (...args: unknown[]) => {
        methods[prop] ??= { calls: 0, totalMs: 0, rows: 0 };
        const entry = methods[prop];
        const isWrite = WRITE_METHODS.has(prop);
        const t0 = performance.now();
        all.start();
        if (isWrite) writes.start();
        const finish = () => {
          if (isWrite) writes.stop();
          all.stop();
          entry.calls++;
          entry.totalMs += performance.now() - t0;
          entry.rows += Array.isArray(args[0]) ? args[0].length : 1;
        };
        let out: unknown;
        try {
          out = (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (err) {
          finish();
          throw err;
        }
        if (out instanceof Promise) return out.finally(finish);
        finish();
        return out;
      };
    },
  });
  return { store: proxy, times: () => ({ busyMs: all.ms, writeBusyMs: writes.ms, methods }) };
}

export interface RequestTimeline {
  /** First and last fetch-one-call request seen (ms, performance.now() of the parent). */
  firstFetchAt: number | null;
  lastFetchAt: number | null;
  /** Every request (list or fetch, served or 429) that arrived between the first and the last fetch. */
  requestsInFetchPhase: number;
  firstRequestAt: number | null;
  lastRequestAt: number | null;
  lastListAt: number | null;
  /** Resolution of the timestamps above. */
  sampleMs: number;
}

/**
 * Watches the simulator's counters every `sampleMs` (the simulator runs in this process) to date requests
 * without touching the daemon: timestamps are late by at most one sample.
 */
export function watchRequests(sim: TwilioSimulator, sampleMs = 2): { stop(): RequestTimeline } {
  let requests = 0;
  let fetches = 0;
  let lists = 0;
  const t: RequestTimeline = {
    firstFetchAt: null,
    lastFetchAt: null,
    requestsInFetchPhase: 0,
    firstRequestAt: null,
    lastRequestAt: null,
    lastListAt: null,
    sampleMs,
  };
  let requestsBeforeFirstFetch = 0;
  let requestsAtLastFetch = 0;
  const sample = () => {
    const s = sim.stats;
    const now = performance.now();
    if (s.requests !== requests) {
      t.firstRequestAt ??= now;
      t.lastRequestAt = now;
    }
    if (s.lists !== lists) t.lastListAt = now;
    if (s.fetches !== fetches) {
      if (t.firstFetchAt === null) {
        t.firstFetchAt = now;
        // The requests of this sample that were fetches are inside the phase; the others came before it.
        requestsBeforeFirstFetch = s.requests - s.fetches;
      }
      t.lastFetchAt = now;
      requestsAtLastFetch = s.requests;
    }
    requests = s.requests;
    fetches = s.fetches;
    lists = s.lists;
  };
  const timer = setInterval(sample, sampleMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      t.requestsInFetchPhase = t.firstFetchAt === null ? 0 : requestsAtLastFetch - requestsBeforeFirstFetch;
      return t;
    },
  };
}

/** Requests per second between the first and the last one of a phase (n requests make n - 1 gaps). */
export function phaseRate(count: number, from: number | null, to: number | null): number | null {
  if (from === null || to === null || count < 2 || to <= from) return null;
  return (count - 1) / ((to - from) / 1000);
}

/** Peak heap and RSS, sampled: tells what grew when maxRSS grows. */
export function sampleMemory(everyMs = 50): { stop(): { peakHeapUsedBytes: number; peakRssBytes: number } } {
  let peakHeapUsedBytes = 0;
  let peakRssBytes = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peakHeapUsedBytes = Math.max(peakHeapUsedBytes, m.heapUsed);
    peakRssBytes = Math.max(peakRssBytes, m.rss);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { peakHeapUsedBytes, peakRssBytes };
    },
  };
}
