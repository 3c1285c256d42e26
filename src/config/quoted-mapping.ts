import type { CallsTableMapping } from "./config.js";
import { quoteIdentifier as q, quoteQualifiedIdentifier } from "./fields/identifiers.js";

/**
 * One column holds both providers' ids (CALLS_COL_TWILIO_SID = CALLS_COL_OPENAI_ID): each row's value belongs
 * to the provider whose shape it has (see routeSharedId).
 */
export function idColumnShared(m: CallsTableMapping): boolean {
  return m.twilioSid !== null && m.twilioSid === m.openaiId;
}

/** The calls table's configured names, validated and quoted once, ready to be placed in SQL text. */
export function quotedMapping(m: CallsTableMapping) {
  return {
    table: quoteQualifiedIdentifier(m.table),
    id: q(m.id),
    /** The id columns, or null when the table has none (the setting set empty). They may be the same column. */
    sid: m.twilioSid === null ? null : q(m.twilioSid),
    rtc: m.openaiId === null ? null : q(m.openaiId),
    status: q(m.status),
    started: q(m.startedAt),
    ended: q(m.endedAt),
    /** The account column, or null when CALLS_COL_TWILIO_ACCOUNT is unset. */
    account: m.twilioAccount === undefined ? null : q(m.twilioAccount),
    /** The duration column, or null when CALLS_COL_DURATION is unset. */
    duration: m.duration === undefined ? null : q(m.duration),
  };
}
