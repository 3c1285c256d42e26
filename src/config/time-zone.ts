import { z } from "zod";

/**
 * CALLS_TIME_ZONE: how to read and write a `timestamp without time zone` start or end column. Only `UTC` or an
 * IANA Area/Location name (`Europe/Berlin`, `Asia/Kolkata`, `Etc/GMT+5`) that this runtime knows is accepted.
 * Abbreviations and POSIX strings are refused: PostgreSQL resolves `AT TIME ZONE 'IST'` as Israel Standard
 * Time while ICU reads it as India, `CET` is a fixed +01 in PostgreSQL but has summer time in the tz
 * database, and `'+05:30'` is read with its sign inverted. A name with a slash is never an abbreviation, so
 * PostgreSQL and the tz database agree on it; the store also asks PostgreSQL at start-up whether it knows it.
 */
const IANA_NAME = /^(?:UTC|[A-Za-z]+(?:\/[A-Za-z0-9_+-]+)+)$/;

export function isIanaTimeZone(name: string): boolean {
  if (name.length > 100 || !IANA_NAME.test(name)) return false;
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
    error: "must be UTC or an IANA time zone name such as Europe/Berlin (not an abbreviation or an offset)",
  });
