/**
 * What the commands ask of a database, whichever it is: PostgreSQL (db/) or a SQLite file (sqlite/) implement
 * it, and cli/ opens one from DATABASE_URL. A pass needs only CallStore and DiagnosisQueue (ports.ts); the
 * rest is for the commands around it: the lease, holds, revert, the causes report, migrate and doctor.
 */
import type { NudgeRelay } from "./nudge.js";
import type { CallStore, DiagnosisQueue } from "./ports.js";
import type { ZombieRecord } from "./zombie-record.js";

/**
 * The daemon's own tables (created by `migrate`, never the app's): in RECONCILER_SCHEMA on PostgreSQL, beside
 * the calls table in a SQLite file.
 */
export const OWN_TABLE_NAMES = {
  actions: "call_reconciler_actions",
  leases: "call_reconciler_leases",
  migrations: "call_reconciler_migrations",
  sightings: "call_reconciler_sightings",
  holds: "call_reconciler_holds",
  causes: "call_reconciler_causes",
  binding: "call_reconciler_binding",
} as const;

/** Raised with a message an operator can act on when the configured table does not match the database. */
export class SchemaMismatchError extends Error {
  override name = "SchemaMismatchError";
}

/** How a command opens its calls store, whichever the database. */
export interface CallStoreOptions {
  /** STATUS_MAP: the provider's status → the value written into the calls table (and the audit row). */
  statusMap?: Readonly<Record<string, string>>;
  /** `audit --apply --force`: this store's audit rows are marked `forced` (written without the lease). */
  forced?: boolean;
  /** TWILIO_ACCOUNT_SID: the account of a Twilio end whose row names none (for its diagnosis). */
  twilioAccount?: string | undefined;
  /** Hears every answer of `listingIndex()` (the gauge of whether an index serves the listing). */
  onListingIndex?: (found: ListingIndex) => void;
  /**
   * Lists active rows without reading holds (every row `held: false`): `simulate` mirrors the calls table
   * alone, before `migrate` as after it. A pass never sets it.
   */
  withoutHolds?: boolean;
}

/** The calls store as the commands see it: a pass's CallStore, and what start-up and doctor read beside it. */
export interface CommandStore extends CallStore {
  activeStartShares(parts: number): Promise<Map<string | null, import("./ports.js").StartShares>>;
  /** Whether an index serves the listing, and the statement that would create one (valid for this database). */
  listingIndex(): Promise<ListingIndex>;
  /** The active rows whose start names no time: never ended. How many, and one of their values. */
  unparseableStarts(): Promise<{ count: number; example: string | null }>;
  /** The same store, whose audit rows are marked `forced` (`audit --apply --force`). */
  asForced(): CommandStore;
  /** Readiness probe: does the database answer? */
  ping(): Promise<void>;
}

/** Who holds a lease, as the database sees it now. */
export interface LeaseHolder {
  holder: string;
  expiresAt: Date;
  /** Seconds until it expires unless renewed. */
  secondsLeft: number;
}

/** One replica's view of the writers' lease on one calls table (the daemon's leader, `audit --apply`). */
export interface WriterLease {
  readonly holder: string;
  /** Takes the lease if free or expired, renews it if ours. Throws when the database cannot be reached. */
  acquireOrRenew(): Promise<boolean>;
  /** The current holder (this process or another), or null when nobody holds it now. */
  currentHolder(): Promise<LeaseHolder | null>;
  /** Milliseconds of leadership this process can still count on (≤ 0: not the leader). */
  remainingMs(): number;
  /** Hands the lease back so another replica takes over without waiting for it to expire. */
  release(): Promise<void>;
  /** Forgets leadership locally (a renewal failed): no more writes until a renewal succeeds. */
  drop(): void;
}

/** A calls table as the database resolves it (SQLite: schema `main`). */
export interface ResolvedTable {
  schema: string;
  name: string;
}

export interface StateBinding {
  /** The table CALLS_TABLE resolves to now. */
  table: ResolvedTable;
  /** When the state was bound to it; null while nothing has used the state yet (and `bind` was not asked). */
  boundAt: Date | null;
  /** This call bound it. */
  boundNow: boolean;
}

/** Whether an index serves the listing of active calls. */
export interface ListingIndex {
  /** An index serves the listing, and it reads active rows only. */
  usable: boolean;
  /** That index's name; null when none serves it. */
  index: string | null;
  /** The statement that creates the partial index the listing needs, in this database's SQL. */
  statement: string;
}

export interface MigrateResult {
  applied: number[];
  /** Where the daemon's tables are (PostgreSQL: RECONCILER_SCHEMA; SQLite: the file), and whether this run created it. */
  schema: string;
  schemaCreated: boolean;
  /**
   * `--with-calls-table`: `created` (with the index its listing needs), or `existing`: the app's table, left
   * exactly as it is, for the caller to check. Null when not asked.
   */
  callsTable: "created" | "existing" | null;
  /** The partial index created with a new calls table (null: one already served it, or no table created). */
  listingIndexCreated: string | null;
}

/** A call of the app's table as it stands now, under its canonical id. */
export interface CallNow {
  callId: string;
  status: string;
  /** As the column holds it (text), for display. */
  endedAt: string | null;
}

export interface Hold {
  callId: string;
  reason: string | null;
  heldBy: string;
  /** The run whose end a revert undid; null for a hold by hand. */
  runId: string | null;
  heldAt: Date;
}

/** Holds by hand (`hold`, `release`); the calls table is only read. */
export interface HoldBook {
  /** The call an operator named, or null when the table has no such row. */
  callById(rawId: string): Promise<CallNow | null>;
  /** Holds `callId` (canonical); `made` is false when a hold already stood (returned as it is). */
  hold(
    callId: string,
    by: { reason: string | null; heldBy: string; runId?: string | null },
  ): Promise<{ made: boolean; hold: Hold }>;
  current(callId: string): Promise<Hold | null>;
  /** Ends the current hold of `callId`; returns it, or null when the call was not held. */
  release(callId: string, releasedBy: string): Promise<Hold | null>;
}

/** One end the daemon recorded (an audit row with outcome `ended`), and the revert that undid it, if any. */
export interface RecordedEnd {
  auditId: string;
  runId: string;
  callId: string;
  previousStatus: string;
  /** The row's end time before the end (null: it had none, and for ends recorded before it was kept). */
  previousEndedAt: Date | null;
  newStatus: string;
  endedAt: Date;
  /** The length written to CALLS_COL_DURATION, as the column held it, and the value it replaced; null: none. */
  durationSeconds: number | null;
  previousDurationSeconds: number | null;
  source: string;
  /** The run id of the revert that undid this end; null while it stands. */
  revertedBy: string | null;
  revertedAt: Date | null;
}

/** Where a call stands now, against what its end wrote. */
export interface CallState {
  /** The row still exists. */
  present: boolean;
  status: string | null;
  endedAt: Date | null;
  /** Its status, end time and length (when the end wrote one) are still exactly what the end wrote. */
  asWritten: boolean;
  revertedBy: string | null;
}

/** `revert`: reads the audit trail and restores ended calls, conditionally and in batches. */
export interface RevertBook {
  /** The audit rows of run `runId`, counted by outcome (empty: no such run). */
  runOutcomes(runId: string): Promise<Record<string, number>>;
  /** One keyset page of run `runId`'s ends, after the audit row `afterAuditId` ("0" for the first). */
  runEnds(runId: string, afterAuditId: string, limit: number): Promise<RecordedEnd[]>;
  /** The last end recorded for `callId`, or null. */
  lastEndOf(callId: string): Promise<RecordedEnd | null>;
  /** Where each end's call stands now, by audit row id. Reads only. */
  states(ends: readonly RecordedEnd[]): Promise<Map<string, CallState>>;
  /**
   * Restores, in one transaction, every call of `ends` still exactly as its end left it and not reverted yet
   * (holding each, one audit row per restore under `revertRunId`; `by` is user@host), then reads where every
   * call stands. Returns the audit row ids restored now and the states after.
   */
  restore(
    ends: readonly RecordedEnd[],
    revertRunId: string,
    by: string,
  ): Promise<{ restored: Set<string>; states: Map<string, CallState> }>;
}

/** One row of the causes table as `report` reads it: the zombie, and where its diagnosis stands. */
export interface CauseRow extends ZombieRecord {
  callSid: string | null;
  accountSid: string | null;
  attempts: number;
  lastError: string | null;
  diagnosedAt: Date | null;
  /** The end was undone by `revert`: not a zombie ended, whatever its cause. */
  reverted: boolean;
}

/** One audit row of a call, for its story. */
export interface CallAction {
  runId: string;
  previousStatus: string;
  newStatus: string;
  endedAt: Date | null;
  source: string;
  decidedAt: Date | null;
  outcome: string;
  /** What the providers said when the end was decided. */
  evidence?: unknown;
}

/** `report`'s reads of the causes table and the audit trail. */
export interface CausesBook {
  since(since: Date): Promise<CauseRow[]>;
  of(callId: string): Promise<CauseRow | null>;
  actionsOf(callId: string): Promise<CallAction[]>;
}

/** One `doctor` line: what was found and, for a warning or a failure, what to do about it. */
export interface DoctorFinding {
  name: string;
  state: "pass" | "warn" | "fail";
  detail: string;
}

/**
 * `doctor`'s lines for what only this database can tell (reachability, rights or file permissions, the tables,
 * the state's binding, the status words); the lines read through the store (listing index, active rows) are
 * the command's, once `tablesUsable`.
 */
export interface DoctorReport {
  findings: DoctorFinding[];
  /** No problem found with the calls table and the daemon's tables: the store's own reads can run. */
  tablesUsable: boolean;
}

/** How a command opens its database: what it reads and writes decides these. */
export interface OpenDatabaseOptions {
  /** Connections at most (PostgreSQL's pool; default 4). */
  connections?: number;
  /** Every transaction is read-only, enforced by the database (`simulate` promises to write nothing). */
  readOnly?: boolean;
  /** The store lists active rows without reading holds (`simulate`, before `migrate` as after it). */
  withoutHolds?: boolean;
  /** Hears every answer of `store.listingIndex()` (the gauge of whether an index serves the listing). */
  onListingIndex?: (found: ListingIndex) => void;
  /** A SQLite file that does not exist is created (`migrate --with-calls-table`); otherwise it is refused. */
  createFile?: boolean;
  /** An idle connection was lost; the next query reconnects. Unheard by default. */
  onConnectionLost?: (err: Error) => void;
}

/** A database the commands can use: the calls table's store and the daemon's state beside it. */
export interface Database {
  /** Which database: its messages and doctor's lines name it. */
  readonly kind: "postgresql" | "sqlite";
  readonly store: CommandStore;
  readonly diagnoses: DiagnosisQueue;
  /**
   * The writers' lease on the calls table (`ttlSeconds`: LEADER_LEASE_SECONDS). Its first request checks the
   * state's binding (binding an unbound state): a writer never leads on the state of another calls table.
   */
  writerLease(opts: { holder: string; ttlSeconds: number }): WriterLease;
  holds(): HoldBook;
  /**
   * How an event received by any replica reaches the leader (PostgreSQL: NOTIFY); null where only one
   * replica can run (SQLite): the receiving replica is then the writer, or refuses the event.
   */
  nudgeRelay(): NudgeRelay | null;
  reverts(): RevertBook;
  causes(): CausesBook;
  /** The name of the writers' lease, as `writerLease` resolves it (for the line naming who holds it). */
  leaseName(): Promise<string>;
  /** How many rows of the calls table got an end time since `since` (by anyone), for `report`. */
  endedSince(since: Date): Promise<number>;
  /**
   * `migrate`: brings the daemon's tables up to date; with `withCallsTable`, creates a missing calls table
   * (and its listing index). An existing calls table is never altered.
   */
  migrate(opts: { withCallsTable: boolean }): Promise<MigrateResult>;
  /**
   * Checks that the daemon's state belongs to CALLS_TABLE; with `bind`, binds an unbound state to it (a
   * write). Throws SchemaMismatchError, one line with the fix, when it belongs to another table.
   */
  checkBinding(opts: { bind: boolean }): Promise<StateBinding>;
  /** For `doctor`: what the state is bound to, in words. */
  describeBinding(binding: StateBinding): string;
  /**
   * The connection may read and write what `run`, `audit`, `revert` and `hold` do (PostgreSQL: the role's
   * privileges); else SchemaMismatchError naming what is missing and how to give it.
   */
  verifyWriter(): Promise<void>;
  /**
   * The start-up checks of `run` and `audit`, before any read of a call: the writer's rights, the calls table
   * and its columns, the daemon's tables (binding the state), the status values. SchemaMismatchError on the first.
   */
  verify(): Promise<void>;
  /** The calls table and its columns only: for a reader that neither writes nor needs the daemon's tables. */
  verifyCallsTable(): Promise<void>;
  /** A warning when the status column holds none of ACTIVE_STATUSES in a non-empty table; null when fine. */
  statusColumnWarning(): Promise<string | null>;
  /**
   * `doctor`'s database lines (`scope: "database"`: reachability, clock and rights, then the tables), or the
   * tables' lines alone (`migrate`'s check of an existing calls table). `explain` words an error as the
   * command reports it.
   */
  doctorChecks(opts: {
    scope: "database" | "tables";
    explain: (err: unknown) => string;
  }): Promise<DoctorReport>;
  close(): Promise<void>;
}
