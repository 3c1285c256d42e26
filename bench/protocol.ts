/** What the parent (bench/run.ts) asks a child (bench/child.ts) to do, and what the child answers. */

export type Strategy = "list-diff" | "per-call" | "auto";
/**
 * The calls table a pass runs on: the default one (timestamptz times), the app's (ISO 8601 text times), or the
 * app's in its SQLite file (the same text times).
 */
export type TableKind = "timestamptz" | "text" | "sqlite";
export const STRATEGIES: readonly Strategy[] = ["list-diff", "per-call", "auto"];

export interface PassJob {
  kind: "pass";
  /** postgres://… of the run's database, or sqlite:///… of the app's file (with `appTable`). */
  databaseUrl: string;
  twilioUrl: string;
  accountSid: string;
  authToken: string;
  strategy: Strategy;
  limitRps: number;
  concurrency: number;
  /** The rows name their Twilio subaccount (CALLS_COL_TWILIO_ACCOUNT). */
  accountColumn: boolean;
  /** The app's calls table with text times (src/dev/app-table.ts), mapped as its operator maps it. */
  appTable: boolean;
}

/** Ends every active row of the database through the store, without providers: the write path alone. */
export interface WriteJob {
  kind: "write";
  databaseUrl: string;
  /** `endCalls` in batches of `batch`, or `endCall` one row at a time with `concurrency` in flight. */
  method: "endCalls" | "endCall";
  batch: number;
  concurrency: number;
}

export type Job = PassJob | WriteJob;

/** Time spent in the store, per method: `busyMs` counts wall time with at least one call in flight. */
export interface DbTimes {
  busyMs: number;
  /** Same, for the methods that write (endCall, endCalls). */
  writeBusyMs: number;
  methods: Record<string, { calls: number; totalMs: number; rows: number }>;
}

export interface PassReport {
  kind: "pass";
  wallMs: number;
  db: DbTimes;
  maxRssBytes: number;
  /** RSS once everything was imported and connected, before the pass. */
  baselineRssBytes: number;
  /** Sampled every 50 ms during the pass. */
  peakHeapUsedBytes: number;
  checked: number;
  live: number;
  ended: number;
  alreadyEnded: number;
  writeFailures: number;
  unverified: Record<string, number>;
  providerErrors: number;
  /** The strategy the pass reports it used, when its result says (list-diff may fall back to per-call). */
  usedStrategy: string | null;
  /** Warnings and errors the daemon logged (first few). */
  problems: string[];
  problemCount: number;
}

export interface WriteReport {
  kind: "write";
  method: string;
  rows: number;
  ended: number;
  wallMs: number;
  maxRssBytes: number;
}

export type ChildMessage = PassReport | WriteReport | { kind: "error"; message: string };
