import { z } from "zod";
import {
  identifier,
  identifierProblem,
  optionalColumn,
  optionalIdentifier,
  quotable,
} from "../fields/env-fields.js";
import { quoteQualifiedIdentifier } from "../fields/identifiers.js";
import { timeZoneSetting } from "../fields/time-zone.js";
import { inGroup } from "./setting.js";

export const MAPPING_SETTINGS = inGroup("mapping", {
  CALLS_TABLE: {
    about:
      'the app\'s calls table: `table` or `schema.table`, written exactly as the database spells it and without quotes (`telephony.PhoneCalls`, not `telephony."PhoneCalls"`)',
    field: z
      .string()
      .default("calls")
      .superRefine((v, ctx) => {
        if (quotable(quoteQualifiedIdentifier)(v)) return;
        ctx.addIssue({
          code: "custom",
          message: identifierProblem(v, "a table name or schema.table of plain SQL identifiers"),
        });
      }),
  },
  CALLS_COL_ID: { about: "the column that identifies a call", field: identifier("call_id") },
  CALLS_COL_TWILIO_SID: {
    about:
      "the column holding Twilio's Call SID (`CA…`; NULL for calls that never touched Twilio). Set empty (`CALLS_COL_TWILIO_SID=`) when the table has no such column: Twilio is then never asked. It may name the same column as `CALLS_COL_OPENAI_ID` (and `CALLS_COL_ID`): see [One id column for both providers](providers.md#one-id-column-for-both-providers)",
    field: optionalColumn("twilio_call_sid"),
  },
  CALLS_COL_OPENAI_ID: {
    about:
      "the column holding OpenAI's realtime call id (`rtc_…`; NULL when the call had no realtime session). Set empty (`CALLS_COL_OPENAI_ID=`) when the table has no such column: OpenAI is then never asked. It may name the same column as `CALLS_COL_TWILIO_SID`",
    field: optionalColumn("openai_call_id"),
  },
  CALLS_COL_STATUS: {
    about: "the status column (text or an enum); the daemon writes it when it ends a call",
    field: identifier("status"),
  },
  CALLS_COL_STARTED_AT: {
    about:
      "when the call started: `timestamptz`; `timestamp` or ISO 8601 `text` with `CALLS_TIME_ZONE`; or an integer epoch with `CALLS_EPOCH_UNIT`. See [time columns as text or numbers](operations.md#time-columns-as-text-or-numbers)",
    field: identifier("started_at"),
  },
  CALLS_COL_ENDED_AT: {
    about:
      "when the call ended, NULL while it is live; with the status (and `CALLS_COL_DURATION`, when set), the only columns the daemon writes. A row with an end time is never touched",
    field: identifier("ended_at"),
  },
  CALLS_COL_DURATION: {
    about:
      "the call's length in seconds (`integer`, `bigint`, `smallint`: rounded to whole seconds; `real`, `double precision`, `numeric`: to the millisecond), written with the status and the end time: Twilio's own `duration` for a Twilio end, else end − start. Unset: never written",
    field: optionalIdentifier,
  },
  CALLS_COL_TWILIO_ACCOUNT: {
    about:
      "the column holding each call's Twilio (sub)account SID; unset, or NULL/blank in a row: `TWILIO_ACCOUNT_SID`. See [Twilio subaccounts](providers.md#twilio-subaccounts)",
    field: optionalIdentifier,
  },
  CALLS_TIME_ZONE: {
    about:
      "IANA zone (`UTC`, `Europe/Berlin`, or a link such as `GMT` or `US/Eastern`) a `timestamp without time zone` start or end column, or a text one holding times without an offset, is written in: required for such a column, unused for `timestamptz`. Abbreviations (`IST`, `CET`, `EST`) and offsets are refused, even those the tz database also names a zone: PostgreSQL reads them as fixed offsets",
    field: timeZoneSetting,
  },
  CALLS_EPOCH_UNIT: {
    about:
      "`seconds` or `milliseconds`: what an `integer`, `bigint` or `numeric` start or end column counts since the Unix epoch; required for such a column, unused otherwise",
    field: z.enum(["seconds", "milliseconds"]).optional(),
  },
  ACTIVE_STATUSES: {
    about:
      'comma list of the statuses that mean "live" (`active,ringing`). Start-up refuses a status the daemon writes when it ends a call (`completed`, `busy`, `no-answer`, `canceled`, `failed`, `timeout`, each after `STATUS_MAP`) and a status the table\'s finished rows (those with an end time) carry',
    field: z
      .string()
      .default("active")
      .transform((v) =>
        v
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== ""),
      )
      .refine((list) => list.length > 0, { error: "must name at least one status" }),
  },
  STATUS_MAP: {
    about:
      "`provider-status:app-value,…` for the statuses the daemon writes (`completed`, `busy`, `no-answer`, `canceled`, `failed`, `timeout`), e.g. `no-answer:missed,canceled:cancelled`; a status not listed is written as it is",
    field: z.string().default(""),
  },
});
