/** The daemon's rows written with an end, in its transaction: the audit row and the cause row. */
import { OWN_TABLES as t } from "../own-tables.js";

/** One audit row of an end the UPDATE made (outcome `ended`). */
export const INSERT_ENDED_SQL = `INSERT INTO ${t.actions} (run_id, call_id, previous_status, previous_ended_at,
    new_status, provider_status, ended_at, duration_seconds, previous_duration_seconds, source, evidence,
    decided_at, recorded_at, outcome, forced)
  VALUES (:runId, :callId, :previousStatus, NULL, :newStatus, :providerStatus, :endedAt, :duration,
    :previousDuration, :source, :evidence, :decidedAt, :recordedAt, 'ended', :forced)`;

/**
 * The cause row of an end: a Twilio end waits for its diagnosis (`cause` NULL, due at :dueAt), any other's cause
 * is its source. A call ended again (after a revert) starts over.
 */
export const RECORD_CAUSE_SQL = `INSERT INTO ${t.causes} (call_id, run_id, source, call_sid, account_sid,
    direction, provider_status, started_at, provider_ended_at, ended_here_at, cause, due_at)
  VALUES (:callId, :runId, :source, :callSid, :accountSid, :direction, :providerStatus, :startedAt,
    :providerEndedAt, :endedHereAt, :cause, :dueAt)
  ON CONFLICT (call_id) DO UPDATE SET run_id = excluded.run_id, source = excluded.source,
    call_sid = excluded.call_sid, account_sid = excluded.account_sid, direction = excluded.direction,
    provider_status = excluded.provider_status, started_at = excluded.started_at,
    provider_ended_at = excluded.provider_ended_at, ended_here_at = excluded.ended_here_at,
    cause = excluded.cause, due_at = excluded.due_at, detail = NULL, attempts = 0, last_error = NULL,
    diagnosed_at = NULL`;

/**
 * A refused end, recorded once per call and (mapped) status: the partial unique index makes a second one a
 * no-op (`changes` 0).
 */
export const RECORD_REFUSAL_SQL = `INSERT INTO ${t.actions} (run_id, call_id, previous_status, new_status,
    provider_status, ended_at, source, evidence, decided_at, recorded_at, outcome, detail, forced)
  VALUES (:runId, :callId, :previousStatus, :newStatus, :providerStatus, :endedAt, :source, :evidence,
    :decidedAt, :recordedAt, 'refused', :detail, :forced)
  ON CONFLICT (call_id, new_status) WHERE outcome = 'refused' DO NOTHING`;

/** Which of the (call id, mapped status) pairs of :pairs (JSON `[[id, status], …]`) have a refusal recorded. */
export const REFUSED_BEFORE_SQL = `SELECT DISTINCT a.call_id FROM ${t.actions} AS a
  JOIN json_each(:pairs) AS p
    ON a.call_id = json_extract(p.value, '$[0]') AND a.new_status = json_extract(p.value, '$[1]')
  WHERE a.outcome = 'refused'`;
