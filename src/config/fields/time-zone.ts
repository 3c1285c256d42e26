import { z } from "zod";

/**
 * CALLS_TIME_ZONE: how to read and write a `timestamp without time zone` start or end column, or ISO 8601 text
 * without an offset (converted by the daemon through Intl, which must know the zone too). Only an IANA
 * name that this runtime knows is accepted: an Area/Location name (`Europe/Berlin`, `Asia/Kolkata`,
 * `Etc/GMT+5`, `US/Eastern`) or one of the tz database's few names without a slash (`UTC`, `GMT`, `Zulu`, `GB`).
 * Abbreviations and POSIX strings are refused: PostgreSQL resolves `AT TIME ZONE 'IST'` as Israel Standard
 * Time while ICU reads it as India, `CET` is a fixed +01 in PostgreSQL but has summer time in the tz
 * database, and `'+05:30'` is read with its sign inverted. A name with a slash is never an abbreviation, so
 * PostgreSQL and the tz database agree on it; the store also asks PostgreSQL at start-up whether it knows it.
 */
const IANA_NAME = /^[A-Za-z]+(?:\/[A-Za-z0-9_+-]+)+$/;

/**
 * The tz database's names without a slash, a closed legacy set that the runtime's Intl accepts beside its own
 * non-IANA three-letter names (`IST`, `PST`), which is why they are listed rather than asked of Intl. Left
 * out: `CET`, `EET`, `EST`, `HST`, `MET`, `MST` and `WET`, zones of the tz database that PostgreSQL's
 * `AT TIME ZONE` reads first as its fixed-offset abbreviations (`CET` without summer time, `EST` as +10 under
 * the Australia set). `GMT`, `UCT`, `UTC` and `Zulu` are abbreviations there too, but of UTC, as in the tz
 * database. Compared in lower case: PostgreSQL and Intl both look zone names up regardless of case.
 */
const SLASHLESS_NAMES: ReadonlySet<string> = new Set(
  (
    "UTC UCT GMT GMT0 GMT+0 GMT-0 Greenwich Universal Zulu Cuba Egypt Eire GB GB-Eire Hongkong Iceland Iran " +
    "Israel Jamaica Japan Kwajalein Libya Navajo NZ NZ-CHAT Poland Portugal PRC ROC ROK Singapore Turkey W-SU " +
    "EST5EDT CST6CDT MST7MDT PST8PDT"
  )
    .toLowerCase()
    .split(" "),
);

export function isIanaTimeZone(name: string): boolean {
  if (name.length > 100 || !(IANA_NAME.test(name) || SLASHLESS_NAMES.has(name.toLowerCase()))) return false;
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The env schema's CALLS_TIME_ZONE: unset or blank → undefined; else a checked IANA name, trimmed. */
export const timeZoneSetting = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()))
  .refine((v) => v === undefined || isIanaTimeZone(v), {
    error:
      "must be UTC or an IANA time zone name such as Europe/Berlin or GMT (not an abbreviation such as CET or EST, nor an offset)",
  });
