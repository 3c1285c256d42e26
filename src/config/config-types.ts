import type { RealtimeSurface } from "../model/index.js";
/** The validated configuration that loadConfig (config.ts) builds from the environment. */

export interface TwilioCredentials {
  accountSid: string;
  /** Basic-auth user: the Account SID, or an API Key SID. */
  username: string;
  password: string;
}

export interface CallsTableMapping {
  table: string;
  id: string;
  /**
   * CALLS_COL_TWILIO_SID and CALLS_COL_OPENAI_ID; null: the table has no such column (the setting set empty).
   * Both may name one column, which then holds each call's id for whichever provider it belongs to.
   */
  twilioSid: string | null;
  openaiId: string | null;
  status: string;
  startedAt: string;
  endedAt: string;
  /**
   * CALLS_TIME_ZONE (an IANA name): the zone a `timestamp without time zone` start or end column, or ISO text
   * without an offset, is written in; the SQL converts with AT TIME ZONE, the daemon converts text. Unset: such
   * a column is refused at start-up. Unused for timestamptz.
   */
  timeZone?: string | undefined;
  /** CALLS_EPOCH_UNIT: what an integer start or end column counts since the Unix epoch. Unset: such a column is refused. */
  epochUnit?: "seconds" | "milliseconds" | undefined;
  /**
   * CALLS_COL_TWILIO_ACCOUNT: the column holding the Twilio (sub)account SID a row's call belongs to. Unset:
   * every call is asked under TWILIO_ACCOUNT_SID. A row with NULL there is too.
   */
  twilioAccount?: string | undefined;
  /**
   * CALLS_COL_DURATION: the column the call's length in seconds is written to, in the same statement as the
   * status and the end time (and restored by revert). Unset: the daemon neither reads nor writes one.
   */
  duration?: string | undefined;
  /**
   * RECONCILER_SCHEMA: the schema of the daemon's own tables (audit trail, lease, holds, sightings); every
   * statement names it. Unset: `public`.
   */
  daemonSchema?: string | undefined;
}

/** Where the calls table is: a PostgreSQL server, or a SQLite file on this host. */
export type DatabaseTarget =
  | { kind: "postgresql"; url: string }
  | {
      kind: "sqlite";
      /** As DATABASE_URL names it: absolute, or relative to the working directory. */
      path: string;
      /** SQLITE_BUSY_TIMEOUT_MS. */
      busyTimeoutMs: number;
      /** SQLITE_JOURNAL_MODE: set by `migrate`; undefined: left as it is. */
      journalMode: "wal" | "delete" | "truncate" | "persist" | undefined;
    };

export interface Config {
  /** DATABASE_URL as given (PostgreSQL or SQLite); `database` says which. */
  databaseUrl: string | undefined;
  /** DATABASE_URL read: undefined when unset. */
  database: DatabaseTarget | undefined;
  twilio: TwilioCredentials | null;
  twilioApiBaseUrl: string;
  twilioConcurrency: number;
  twilioMaxRps: number;
  /** `per-call`: fetch every SID; `list-diff`: list live calls once, fetch the rest; `auto`: list-diff when worth it. */
  twilioStrategy: "auto" | "list-diff" | "per-call";
  /** In `auto`, list-diff is used when the first page of active rows holds at least this many SIDs. */
  twilioListDiffThreshold: number;
  /**
   * TWILIO_MAX_RPS and TWILIO_CONCURRENCY hold per account (Twilio limits each subaccount on its own); these
   * optional caps hold over all accounts together. null: no overall cap.
   */
  twilioTotalMaxRps: number | null;
  twilioTotalConcurrency: number | null;
  openaiApiKey: string | null;
  openaiBaseUrl: string;
  openaiConcurrency: number;
  openaiMaxRps: number;
  /**
   * `after-cap`: open a sideband only to realtime-only calls older than the session cap (no live call can be
   * disturbed); `early`: to younger calls too, under the positive control and the blast radius; `off`: never.
   */
  openaiProbe: "after-cap" | "early" | "off";
  /** The runtime surfaces a realtime call is asked on, in order: it is gone only when every one says so. */
  openaiSurfaces: readonly RealtimeSurface[];
  hangupOrphanedRealtime: boolean;
  /** OpenAI's cap on a realtime session: a realtime-only end is never later than started_at + this. */
  openaiMaxSessionSeconds: number;
  /** The positive control: OpenAI's "gone" is trusted only if a probe saw a live session this recently. */
  openaiLiveControlSeconds: number;
  /** A pass that would end more than this share of the realtime-only rows it probed ends none of them. */
  openaiMaxEndShare: number;
  /** A pass that would end more than this share of the (≥ 10) active rows it saw on the age bound ends none so. */
  ageBoundMaxEndShare: number;
  /**
   * The share of a pass's Twilio request budget (TWILIO_MAX_RPS × RECONCILE_INTERVAL_SECONDS) its diagnoses of
   * earlier ends may spend; 0 turns them off.
   */
  diagnosisRequestShare: number;
  providerTimeoutMs: number;
  providerMaxAttempts: number;
  /** Opens when more than this share of the window's requests failed (5xx, timeouts, network errors). */
  breakerFailureRate: number;
  breakerWindowSeconds: number;
  /** Requests per second over the window below which the breaker never opens. */
  breakerMinThroughput: number;
  breakerHalfOpenSeconds: number;
  reconcileIntervalSeconds: number;
  /** How long a leader's lease lasts without renewal: about 2.5 intervals. */
  leaderLeaseSeconds: number;
  shutdownTimeoutSeconds: number;
  /**
   * A pass stops taking rows at this age; a loop without progress for this long is unhealthy (/healthz 503)
   * and stops renewing its lease.
   */
  passDeadlineSeconds: number;
  /** Downstream webhook for every ended call; null when NOTIFY_URL is unset. */
  notify: { url: string; secret: string } | null;
  /** Twilio Event Streams: the public URL of the sink (EVENTS_URL), and its listener when EVENTS_PORT is set. */
  events: EventsSettings;
  minCallAgeSeconds: number;
  maxCallDurationSeconds: number;
  dbPageSize: number;
  dryRun: boolean;
  metricsHost: string;
  metricsPort: number;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  calls: CallsTableMapping;
  activeStatuses: string[];
  /**
   * STATUS_MAP: a provider status (one of END_STATUSES) → the value the app's table takes instead; a status
   * not listed is written as it is. Read it through `mapStatus`.
   */
  statusMap: Record<string, string>;
  /** DB_STATEMENT_TIMEOUT_MS: the server cancels a statement after this long; the client gives up 5 s later. */
  dbStatementTimeoutMs: number;
  /** ZOMBIES_TOKEN: `/zombies` answers only `Authorization: Bearer <it>`; null: `/zombies` is off. Never logged. */
  zombiesToken: string | null;
  /**
   * RECONCILE_TOKEN: `POST /reconcile` (one pass now) answers only `Authorization: Bearer <it>`; null: the
   * endpoint is off. Never logged.
   */
  reconcileToken: string | null;
}

export interface EventsSettings {
  /** EVENTS_URL: where Twilio posts, as the sink's destination says it; null when unset. */
  url: string | null;
  /** The sink's listener; null when EVENTS_PORT is unset (no sink). */
  sink: { host: string; port: number; url: string; authToken: string } | null;
}
