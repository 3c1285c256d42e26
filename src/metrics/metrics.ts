import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import {
  END_SOURCES,
  HANGUP_OUTCOMES,
  NOTIFY_OUTCOMES,
  PASS_OUTCOMES,
  PROVIDER_ERROR_REASONS,
} from "../model/index.js";

/** Every value of the `cause` label: the causes a diagnosis settles on, and the sources whose cause they are. */
export const ZOMBIE_CAUSES = [
  "callback_acknowledged",
  "callback_failed",
  "callback_not_requested",
  "unknown",
  "age_bound",
  "openai",
] as const;

/** calls_ended_total at 0 for every status the daemon may write (after STATUS_MAP) and every source. */
export function startEndedCounters(metrics: Metrics, writtenStatuses: readonly string[]): void {
  for (const status of new Set(writtenStatuses))
    for (const source of END_SOURCES) metrics.callsEnded.inc({ status, source }, 0);
}

export type BreakerState = "closed" | "half-open" | "open";
const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, "half-open": 1, open: 2 };

/**
 * Every metric of the daemon, in one place (names and labels are a contract with the alert rules).
 * Labels are bounded sets only: never a call id or SID.
 */
export function createMetrics(registry: Registry = new Registry()) {
  const prefix = "call_reconciler_";
  const m = {
    registry,
    zombieCalls: new Gauge({
      name: `${prefix}zombie_calls`,
      help: "Zombie calls found by the last pass (in dry-run: calls that would be ended), by evidence source",
      labelNames: ["source"] as const,
      registers: [registry],
    }),
    callsEnded: new Counter({
      name: `${prefix}calls_ended_total`,
      help: "Calls ended by the daemon",
      labelNames: ["status", "source"] as const,
      registers: [registry],
    }),
    unverifiedCalls: new Gauge({
      name: `${prefix}unverified_calls`,
      help: "Calls the last pass could not verify, by reason",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
    providerRequests: new Counter({
      name: `${prefix}provider_requests_total`,
      help: "Requests sent to a provider, by outcome",
      labelNames: ["provider", "outcome"] as const,
      registers: [registry],
    }),
    providerRequestDuration: new Histogram({
      name: `${prefix}provider_request_duration_seconds`,
      help: "Duration of one provider request (one attempt)",
      labelNames: ["provider"] as const,
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    circuitBreakerState: new Gauge({
      name: `${prefix}circuit_breaker_state`,
      help: "Circuit breaker per provider: 0 closed, 1 half-open, 2 open",
      labelNames: ["provider"] as const,
      registers: [registry],
    }),
    circuitBreakerTransitions: new Counter({
      name: `${prefix}circuit_breaker_transitions_total`,
      help: "Circuit breaker state changes per provider, by the state entered",
      labelNames: ["provider", "to"] as const,
      registers: [registry],
    }),
    realtimeHangups: new Counter({
      name: `${prefix}realtime_hangups_total`,
      help: "Orphaned OpenAI realtime sessions hung up after Twilio confirmed the phone leg was over",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    passes: new Counter({
      name: `${prefix}passes_total`,
      help: "Reconcile passes by result",
      labelNames: ["result"] as const,
      registers: [registry],
    }),
    passDuration: new Histogram({
      name: `${prefix}pass_duration_seconds`,
      help: "Duration of one reconcile pass",
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers: [registry],
    }),
    lastSuccess: new Gauge({
      name: `${prefix}last_success_timestamp_seconds`,
      help: "Unix time of the end of the last pass that completed (success or partial)",
      registers: [registry],
    }),
    activeCalls: new Gauge({
      name: `${prefix}active_calls`,
      help: "Rows still marked active in the calls table",
      registers: [registry],
    }),
    oldestActiveCallAge: new Gauge({
      name: `${prefix}oldest_active_call_age_seconds`,
      help: "Age of the oldest row still marked active (0 when none)",
      registers: [registry],
    }),
    isLeader: new Gauge({
      name: `${prefix}is_leader`,
      help: "1 when this replica holds the lease and reconciles, 0 when it stands by",
      registers: [registry],
    }),
    rowCheckFailures: new Counter({
      name: `${prefix}row_check_failures_total`,
      help: "Rows whose provider check failed (no clear answer for that row), by reason",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
    evidenceSuspect: new Gauge({
      name: `${prefix}evidence_suspect`,
      help: "1 when the last pass did not trust a provider's absences (no live answer recently, or too many ends)",
      labelNames: ["provider"] as const,
      registers: [registry],
    }),
    clockSkew: new Gauge({
      name: `${prefix}clock_skew_seconds`,
      help: "How far this host's clock is ahead of the database's (decisions use the database's)",
      registers: [registry],
    }),
    secondsSinceProgress: new Gauge({
      name: `${prefix}seconds_since_progress`,
      help: "Seconds since the loop last moved forward: a page read, a provider answer or a write (leader), a lease check (stand-by)",
      registers: [registry],
    }),
    listingIndexUsable: new Gauge({
      name: `${prefix}listing_index_usable`,
      help: "1 when an index serves the listing of active calls; 0 when each pass scans the whole calls table (the log and `audit` print the CREATE INDEX statement)",
      registers: [registry],
    }),
    zombieCauses: new Counter({
      name: `${prefix}zombie_causes_total`,
      help: "Zombie calls ended, by why their end was lost (a Twilio end's cause once diagnosed; else the source)",
      labelNames: ["cause"] as const,
      registers: [registry],
    }),
    zombieLifetime: new Histogram({
      name: `${prefix}zombie_lifetime_seconds`,
      help: "How long a zombie stayed active after its true end, until the daemon ended it, by evidence source and by what found it (a pass, or an Event Streams event)",
      labelNames: ["source", "found_by"] as const,
      // Seconds (an event's end), minutes (a webhook a little late, a pass) to days (a handler that never
      // ends a call, found by the age bound).
      buckets: [
        1, 2, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400, 172_800, 604_800, 2_592_000,
      ],
      registers: [registry],
    }),
    twilioListByDate: new Gauge({
      name: `${prefix}twilio_accounts_listed_by_date`,
      help: "Twilio accounts whose StartTime filter proved to honour the date only: listed without slices",
      registers: [registry],
    }),
    realtimeSessionCapDisproved: new Gauge({
      name: `${prefix}realtime_session_cap_disproved`,
      help: "1 once a realtime call was seen live past OPENAI_MAX_SESSION_SECONDS: no realtime call is ended on that cap until the setting is corrected and the daemon restarted",
      registers: [registry],
    }),
    diagnosesQueued: new Gauge({
      name: `${prefix}diagnoses_queued`,
      help: "Twilio ends whose cause is still to be read from Twilio's records of the call",
      registers: [registry],
    }),
    eventsReceived: new Counter({
      name: `${prefix}events_received_total`,
      help: "Event Streams events in batches the sink accepted (signed, well formed)",
      registers: [registry],
    }),
    eventBatchesRefused: new Counter({
      name: `${prefix}event_batches_refused_total`,
      help: "Event Streams deliveries the sink refused, by reason (unsigned, bad signature, too large, not a batch, …)",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
    eventsDuplicate: new Counter({
      name: `${prefix}events_duplicate_total`,
      help: "Event Streams events received again (at-least-once delivery): answered, not acted on twice",
      registers: [registry],
    }),
    eventsIgnored: new Counter({
      name: `${prefix}events_ignored_total`,
      help: "Event Streams events that name no call to look at, by reason (not a terminal status, stale, unreadable, …)",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
    eventsQueued: new Counter({
      name: `${prefix}events_queued_total`,
      help: "Terminal-status events queued for an immediate check of their call (a nudge, never evidence)",
      registers: [registry],
    }),
    eventEnds: new Counter({
      name: `${prefix}event_ends_total`,
      help: "Calls ended by a check an Event Streams event asked for (Twilio's Calls API confirmed the end)",
      registers: [registry],
    }),
    eventEndLag: new Histogram({
      name: `${prefix}event_end_lag_seconds`,
      help: "From Twilio's event time to the call's end in the table, for calls ended by an event's check",
      buckets: [0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    lastEvent: new Gauge({
      name: `${prefix}last_event_timestamp_seconds`,
      help: "When the sink last accepted an Event Streams event (Unix time); 0: none since start",
      registers: [registry],
    }),
    eventsSinkConfigured: new Gauge({
      name: `${prefix}events_sink_configured`,
      help: "1 when this replica runs the Event Streams sink (EVENTS_PORT set)",
      registers: [registry],
    }),
    notifications: new Counter({
      name: `${prefix}notifications_total`,
      help: "Downstream webhook deliveries of ended calls, by outcome",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
  };
  collectDefaultMetrics({ register: registry, prefix });
  // prom-client exports these counts as gauges named `_total`, which `promtool check metrics` rejects (a
  // `_total` suffix promises a counter). The same counts stay available, by type, in the gauges without it.
  for (const name of [
    "nodejs_active_handles_total",
    "nodejs_active_requests_total",
    "nodejs_active_resources_total",
  ])
    registry.removeSingleMetric(`${prefix}${name}`);
  m.isLeader.set(0);
  m.evidenceSuspect.set({ provider: "openai" }, 0);
  m.evidenceSuspect.set({ provider: "age_bound" }, 0);
  for (const cause of ZOMBIE_CAUSES) m.zombieCauses.inc({ cause }, 0);
  // Every counter with known label values starts at 0, so that rate() and increase() see the first event.
  for (const result of PASS_OUTCOMES) m.passes.inc({ result }, 0);
  for (const outcome of HANGUP_OUTCOMES) m.realtimeHangups.inc({ outcome }, 0);
  for (const outcome of NOTIFY_OUTCOMES) m.notifications.inc({ outcome }, 0);
  for (const reason of PROVIDER_ERROR_REASONS) m.rowCheckFailures.inc({ reason }, 0);
  for (const provider of ["twilio", "openai"])
    for (const outcome of ["ok", "not_found", ...PROVIDER_ERROR_REASONS])
      m.providerRequests.inc({ provider, outcome }, 0);
  m.diagnosesQueued.set(0);
  for (const counter of [m.eventsReceived, m.eventsDuplicate, m.eventsQueued, m.eventEnds]) counter.inc(0);
  m.lastEvent.set(0);
  m.eventsSinkConfigured.set(0);
  m.twilioListByDate.set(0);
  m.realtimeSessionCapDisproved.set(0);
  for (const provider of ["twilio", "openai"]) {
    m.circuitBreakerState.set({ provider }, 0);
    for (const to of Object.keys(BREAKER_VALUE)) m.circuitBreakerTransitions.inc({ provider, to }, 0);
  }
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;

export function setBreakerState(metrics: Metrics, provider: string, state: BreakerState): void {
  metrics.circuitBreakerState.set({ provider }, BREAKER_VALUE[state]);
}

/** A breaker changed state: the gauge follows it and the transition is counted. */
export function recordBreakerTransition(metrics: Metrics, provider: string, state: BreakerState): void {
  setBreakerState(metrics, provider, state);
  metrics.circuitBreakerTransitions.inc({ provider, to: state });
}
