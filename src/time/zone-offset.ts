/**
 * Wall times in an IANA zone ↔ instants, through the runtime's Intl (ICU and its tz data, the database that
 * already vouches for CALLS_TIME_ZONE in config/fields/time-zone.ts) rather than a dependency such as luxon: Intl is
 * the tz source luxon itself reads, and what is left here is reading an offset and choosing between two at a transition.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterOf(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(zone, f);
  }
  return f;
}

const HOUR_MS = 3_600_000;
/** Offsets by zone and hour, each read once: Intl's formatToParts costs microseconds, a pass reads 100,000 rows. */
const hourOffsets = new Map<string, Map<number, number | null>>();
const MAX_CACHED_HOURS = 100_000;

/**
 * The zone's offset from UTC at the instant `utcMs`, in minutes (east positive). Read once per hour of time:
 * an hour whose two ends have the same offset has no transition inside it (a zone changes its offset at most
 * once in a day), so every instant of it has that offset; an hour with a transition is read instant by instant.
 */
export function offsetMinutesAt(zone: string, utcMs: number): number {
  let hours = hourOffsets.get(zone);
  if (hours === undefined) {
    hours = new Map();
    hourOffsets.set(zone, hours);
  }
  const hour = Math.floor(utcMs / HOUR_MS);
  let offset = hours.get(hour);
  if (offset === undefined) {
    const start = readOffset(zone, hour * HOUR_MS);
    offset = start === readOffset(zone, (hour + 1) * HOUR_MS) ? start : null;
    if (hours.size >= MAX_CACHED_HOURS) hours.clear();
    hours.set(hour, offset);
  }
  return offset ?? readOffset(zone, utcMs);
}

function readOffset(zone: string, utcMs: number): number {
  const parts: Record<string, number> = {};
  for (const p of formatterOf(zone).formatToParts(new Date(utcMs))) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = parts;
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const whole = utcMs - (((utcMs % 1000) + 1000) % 1000);
  return Math.round((wall - whole) / 60_000);
}

/** The wall time (as if UTC) that the instant `utcMs` shows in `zone`. */
export function wallOf(zone: string, utcMs: number): number {
  return utcMs + offsetMinutesAt(zone, utcMs) * 60_000;
}

const DAY_MS = 86_400_000;

/**
 * The instant a wall time (`wallMs`, its fields read as if UTC) names in `zone`, resolved as PostgreSQL's
 * `AT TIME ZONE` resolves a `timestamp` (so a text column and a `timestamp` one agree): a wall time repeated
 * by a fall-back takes the offset in force after the transition, one skipped by a spring-forward the offset
 * in force before it. The two offsets are read a day either side: no zone changes its offset twice in a day.
 */
export function instantOf(zone: string, wallMs: number): number {
  const before = offsetMinutesAt(zone, wallMs - DAY_MS);
  const after = offsetMinutesAt(zone, wallMs + DAY_MS);
  const late = wallMs - after * 60_000;
  if (wallOf(zone, late) === wallMs) return late;
  return wallMs - before * 60_000;
}
